"""The measurements behind bench/run-ray; see that script for what and why."""
import json, os, statistics, subprocess, sys, time, urllib.request, uuid

binary, head, work, results, ray_cli = sys.argv[1:6]
RUNS = int(os.environ.get("BENCH_RUNS", "10"))


def workspace(name, stages):
    folder = os.path.join(work, name)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "jobs.yaml"), "w") as f:
        f.write(f'version: 1\nexecutors:\n  ray: {{ address: "{head}" }}\njobs:\n  {name}:\n    executor: ray\n    stages:\n{stages}')
    return folder


def timed(command, env=None):
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        sys.exit(f"{command[0]} failed: {done.stderr.decode()[-2000:]}")
    return elapsed


def rest_floor():
    """Submit over REST, poll every 10 ms until SUCCEEDED: what any client must wait at least."""
    sid = "bench-" + uuid.uuid4().hex
    body = json.dumps({"entrypoint": "true", "submission_id": sid}).encode()
    start = time.perf_counter()
    urllib.request.urlopen(urllib.request.Request(f"{head}/api/jobs/", data=body, headers={"Content-Type": "application/json"})).read()
    while True:
        status = json.load(urllib.request.urlopen(f"{head}/api/jobs/{sid}"))["status"]
        if status in ("SUCCEEDED", "FAILED", "STOPPED"):
            break
        time.sleep(0.01)
    return (time.perf_counter() - start) * 1000


one = workspace("one", '      a: { run: "true" }\n')
chain = workspace("chain4", "".join(f'      s{i}: {{ run: "true"{", needs: [s%d]" % (i - 1) if i else ""} }}\n' for i in range(4)))
env = dict(os.environ, RAY_ADDRESS=head)
for folder, job in ((one, "one"), (chain, "chain4")):
    timed([binary, "run", job, "-q", "-C", folder])   # warm-up: the store, the head's worker pool
timed([ray_cli, "job", "submit", "--address", head, "--", "true"], env)
rest_floor()

samples = {"mlops": [], "ray_cli": [], "floor": [], "mlops_chain": [], "ray_chain": []}
for _ in range(RUNS):
    samples["mlops"].append(timed([binary, "run", "one", "-q", "-C", one]))
    samples["ray_cli"].append(timed([ray_cli, "job", "submit", "--address", head, "--", "true"], env))
    samples["floor"].append(rest_floor())
    samples["mlops_chain"].append(timed([binary, "run", "chain4", "-q", "-C", chain]))
    samples["ray_chain"].append(sum(timed([ray_cli, "job", "submit", "--address", head, "--", "true"], env) for _ in range(4)))
m = {k: statistics.median(v) for k, v in samples.items()}
spread = {k: (min(v), max(v)) for k, v in samples.items()}
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
version = json.load(urllib.request.urlopen(f"{head}/api/version"))["ray_version"]
overhead = m["mlops"] - m["floor"]
lines = [
    "## Stages on Ray", "",
    f"`bench/run-ray` ({time.strftime('%Y-%m-%d', time.gmtime())}, {os.cpu_count()} cores, {cpu}, Ray {version}, a local head "
    f"with 2 CPUs): {'release build' if '/release/' in binary else 'debug build'}; {RUNS} runs each, interleaved, "
    "medians (min–max). A trivial stage is `true` as a Ray job.", "",
    "| figure | mlops | Ray | difference | target | met |", "| --- | ---: | ---: | ---: | --- | --- |",
    f"| submit to finished, one stage: `mlops run` vs `ray job submit` | {m['mlops']:.0f} ms ({spread['mlops'][0]:.0f}–{spread['mlops'][1]:.0f}) "
    f"| {m['ray_cli']:.0f} ms ({spread['ray_cli'][0]:.0f}–{spread['ray_cli'][1]:.0f}) | {m['mlops'] - m['ray_cli']:+.0f} ms | adds < 100 ms | "
    f"{'yes' if m['mlops'] - m['ray_cli'] < 100 else '**no**'} |",
    f"| the same against the REST floor (submit, status every 10 ms) | {m['mlops']:.0f} ms | {m['floor']:.0f} ms "
    f"({spread['floor'][0]:.0f}–{spread['floor'][1]:.0f}) | {overhead:+.0f} ms | adds < 100 ms | {'yes' if overhead < 100 else '**no**'} |",
    f"| 4-stage chain on Ray: `mlops run` vs four `ray job submit` in a row | {m['mlops_chain']:.0f} ms "
    f"({spread['mlops_chain'][0]:.0f}–{spread['mlops_chain'][1]:.0f}) | {m['ray_chain']:.0f} ms | {m['mlops_chain'] - m['ray_chain']:+.0f} ms | | |",
    "",
    "What bounds it: Ray itself. The REST floor, about 1 s, is Ray's own time from submission to SUCCEEDED for `true` (its runtime environment, a worker for the driver, the entrypoint). `ray job submit` starts a Python process that imports ray (1.0 s with `--no-wait`), then waits by tailing the log over a websocket, which ends about 6 s after the job here. mlops polls every 40 ms for a job's first 10 s, so it sees the end within a few tens of milliseconds; the rest of its difference to the floor is the whole process of `mlops run` (the store, the lease, the records, the MLflow endpoint for the stage). The 4-stage chain is four such jobs in a row, about 1 s each.",
    "",
]
text = open(results).read()
start = text.find("## Stages on Ray")
if start >= 0:
    end = text.find("\n## ", start + 1)
    text = text[:start] + text[end + 1:] if end >= 0 else text[:start]
open(results, "w").write(text.rstrip("\n") + "\n\n" + "\n".join(lines))
print("\n".join(lines))

"""Turns hyperfine's JSON exports into bench/RESULTS.md: figures, targets, and whether each is met."""
import json, os, platform, subprocess, sys, datetime

work, out = sys.argv[1], sys.argv[2]
def mean_ms(name):
    with open(os.path.join(work, name + ".json")) as f:
        r = json.load(f)["results"][0]
    return r["mean"] * 1000, r["stddev"] * 1000 if r.get("stddev") is not None else 0.0

def cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()

rows = []
def row(what, value, target, ok, note=""):
    rows.append(f"| {what} | {value} | {target} | {'yes' if ok else '**no**'} | {note} |")

f4, f102, f200 = mean_ms("floor4")[0], mean_ms("floor102")[0], mean_ms("floor200")[0]
c4, c4sd = mean_ms("chain4")
fo, fosd = mean_ms("fanout")
c200, c200sd = mean_ms("chain200")
n1, n1sd = mean_ms("noop1")
per4, perfo, per200 = (c4 - f4) / 4, (fo - f102) / 102, (c200 - f200) / 200
# The same 4-chain with the job's fixed cost (process start, spec, store, lease, job run) taken out.
per4marginal = (c4 - n1 - f4) / 4
row("4-stage chain, whole process", f"{c4:.1f} ± {c4sd:.1f} ms", "< 50 ms", c4 < 50, f"bash floor {f4:.1f} ms")
row("1 → 100 → 1 fan-out, whole process", f"{fo:.0f} ± {fosd:.0f} ms", "< 500 ms", fo < 500, f"bash floor {f102:.0f} ms (sequential)")
row("200-stage chain, whole process", f"{c200:.0f} ± {c200sd:.0f} ms", "-", True, f"bash floor {f200:.0f} ms")
row("a job of one `noop` stage: the fixed cost of a job run", f"{n1:.1f} ± {n1sd:.1f} ms", "-", True, "process start, spec, store, lease, records")
row("per-stage overhead above the floor, 4-chain, fixed cost included", f"{per4:.2f} ms", "≤ 3 ms", per4 <= 3, "(chain − floor) / 4: the fixed cost is spread over 4 stages only")
row("per-stage overhead above the floor, 4-chain, fixed cost apart", f"{per4marginal:.2f} ms", "≤ 3 ms", per4marginal <= 3, "(chain − one-noop job − floor) / 4")
row("per-stage overhead above the floor, fan-out", f"{perfo:.2f} ms", "≤ 3 ms", perfo <= 3, "2 stages at once")
row("per-stage overhead above the floor, 200-chain", f"{per200:.2f} ms", "≤ 3 ms", per200 <= 3)
v, vsd = mean_ms("version")
e, esd = mean_ms("runsempty")
row("`mlops --version`", f"{v:.1f} ± {vsd:.1f} ms", "< 20 ms", v < 20)
row("`mlops runs`, empty store", f"{e:.1f} ± {esd:.1f} ms", "< 20 ms", e < 20)
lb, lbsd = mean_ms("logbatch")
rate = 1_000_000 / (lb / 1000)
row("metric logging, `mlops log batch` of 1,000,000 points, whole process", f"{rate:,.0f} points/s ({lb:.0f} ms)", "≥ 200,000 points/s", rate >= 200_000, "CSV parse + one transaction")
s, ssd = mean_ms("search")
sj, sjsd = mean_ms("searchjson")
row("`runs --filter … --order-by …`, 10,000 runs / 100,000 metrics", f"{s:.1f} ± {ssd:.1f} ms", "≤ 100 ms", s <= 100, "3 conditions, top 20")
row("same store, `metrics.auc > 0.5`, 1,000 rows as JSON", f"{sj:.1f} ± {sjsd:.1f} ms", "-", True)

kernel = platform.release()
try:
    swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
except Exception:
    swift = "swift"
text = f"""# Benchmark results

Measured {datetime.date.today().isoformat()} by `bench/run` on {cpu()}, {os.cpu_count()} cores, Linux {kernel}, {swift}.
Release build of `mlops` (`--static-swift-stdlib`); every figure is a whole process (`hyperfine`, mean ± standard deviation),
so process start, spec parsing, SQLite writes (WAL, synchronous=NORMAL) and exit are all included.

Method: the floor is a bash loop starting `/bin/true` the same number of times, one after another;
per-stage overhead is (mlops − floor) / stages. The fan-out runs two stages at once (the default
`max_parallel` is the number of cores), so its floor is pessimistic for us. Peers measured on this
machine by the issue's author, not re-run here: Prefect 3 takes 23 s for the chain and 29 s for the
fan-out, Dagster 5 s and 15 s, Airflow 3 `dags test` 23 s and 43 s; Prefect's CLI starts in 6.3 s.

| what | measured | target | met | note |
| --- | --- | --- | --- | --- |
""" + "\n".join(rows) + "\n"
with open(out, "w") as f:
    f.write(text)

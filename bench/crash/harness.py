#!/usr/bin/env python3
"""The crash harness: `kill -9` at random instants, then restart and check the invariants.

Six cases (a job run, rollout transitions, the scheduler daemon firing, the daemon's monitor
starting retrains, `mlops serve` recording predictions, `mlops outcomes import`), each killed at instants drawn uniformly over how long the
same work takes when left alone. After every kill the harness starts `mlops` again (its first
command reaps what the dead process left) and checks, with Python's own sqlite3 reading the store:

  running     no run is still RUNNING once its process is gone
  aliases     every alias points at a READY version whose files match their checksums
  rollouts    an in-flight rollout has the champion on its stable version
  fires       no schedule fire was started twice (two runs of one fire never overlap), and no
              monitor trigger started two retrains or one inside the cooldown
  predictions no prediction was recorded twice; none that was acknowledged is missing
  outcomes    an import is all or nothing; no outcome twice
  notices     no notification reached the same receiver twice
  integrity   PRAGMA integrity_check and foreign_key_check pass

Then two more: a full disk (a small tmpfs as the workspace) and 50 concurrent `mlops log`
processes while `mlops serve` records predictions. Prints a table; exits 1 if any invariant broke.
Usage: MLOPS_BIN=… harness.py [--instants N] [--seed S] [--json FILE]
"""
import argparse, collections, json, os, random, re, shutil, signal, subprocess, sys, tempfile, threading, time
import urllib.request

from cases import ROLLOUT_SPEC, ROW, job_run_case, monitor_case, outcomes_case, rollout_case, scheduler_case, serve_case
from fixtures import Checks, Receiver, Workspace


# --- the two further cases ----------------------------------------------------------------------

def full_disk_case(base, checks):
    """An 8 MiB tmpfs as the workspace: a stage that fills it fails the run, clearly, and the store survives."""
    mount = f"{base}/tmpfs"
    os.makedirs(mount)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mount], capture_output=True).returncode != 0:
        return "skipped (mount needs root)"
    try:
        ws = Workspace(f"{mount}/ws", """version: 1
jobs:
  fill:
    stages:
      a: { shell: true, run: 'mlops log metric before 1' }
      b: { needs: [a], shell: true, run: 'if [ -f fill.flag ]; then head -c 16000000 /dev/zero > big.bin; fi' }
      c: { needs: [b], shell: true, run: 'true' }
""")
        open(f"{ws.root}/fill.flag", "w").close()
        first = ws.run("run", "fill")
        status = ws.query("SELECT status FROM runs WHERE kind = 'job'")
        if status != [("FAILED",)]:
            print(f"full disk, first run: {first.stderr[-800:]}", file=sys.stderr)
        checks.expect("full-disk", first.returncode != 0 and status == [("FAILED",)], f"full disk: exit {first.returncode}, runs {status}")
        # Now with the disk still full, a new run: refused with a message, store intact.
        second = ws.run("run", "fill")
        said = (second.stderr + second.stdout).lower()
        checks.expect("full-disk", second.returncode != 0 and ("space" in said or "full" in said),
                      f"full disk: second run exit {second.returncode}: {said[-300:]}")
        for leftover in ("big.bin", "fill.flag"):
            if os.path.exists(f"{ws.root}/{leftover}"):
                os.remove(f"{ws.root}/{leftover}")
        ws.run("runs", "--json")
        ok = ws.query("PRAGMA integrity_check")[0][0] == "ok"
        running = ws.query("SELECT COUNT(*) FROM runs WHERE status = 'RUNNING'")[0][0]
        checks.expect("full-disk", ok and running == 0, f"full disk: integrity {ok}, running {running}")
        third = ws.run("run", "fill")
        checks.expect("full-disk", third.returncode == 0, f"full disk: after freeing space the run failed: {third.stderr[-300:]}")
        if third.returncode != 0:
            print(f"full disk, after freeing space: {third.stderr[-500:]}", file=sys.stderr)
        return f"first run exit {first.returncode}, second exit {second.returncode} ({said.strip().splitlines()[-1][:90] if said.strip() else ''}), after freeing space: exit {third.returncode}"
    finally:
        subprocess.run(["umount", "-l", mount])


def many_writers_case(base, checks, receiver):
    ws = Workspace(f"{base}/writers", ROLLOUT_SPEC.format(port=receiver.port).replace("/rollout", "/writers"))
    ws.run("run", "weekly", "-q", check=True)
    run_id = json.loads(ws.run("runs", "--json", check=True).stdout)[0]["run_id"]
    server = ws.start("serve", "--port", "0")
    port = re.search(r":(\d+)\s*$", server.stdout.readline()).group(1)
    stop = threading.Event()
    answered = collections.Counter()

    def client(n):
        url = f"http://127.0.0.1:{port}/v1/models/p/predict"
        while not stop.is_set():
            body = json.dumps({"entity_id": f"w{n}", "features": ROW}).encode()
            try:
                urllib.request.urlopen(urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}), timeout=10)
                answered["ok"] += 1
            except Exception as error:
                answered[type(error).__name__] += 1

    clients = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in clients:
        t.start()
    writers = [ws.start("log", "metric", f"m{n}", str(n), "--run", run_id) for n in range(50)]
    outputs = [w.communicate() + (w.returncode,) for w in writers]
    stop.set()
    for t in clients:
        t.join()
    server.send_signal(signal.SIGTERM)
    server.wait()
    locked = sum(1 for out, err, code in outputs if "locked" in (out + err).lower())
    failed = sum(1 for *_, code in outputs if code != 0)
    logged = ws.query("SELECT COUNT(*) FROM latest_metrics WHERE run_uuid = ? AND key GLOB 'm[0-9]*'", run_id)[0][0]
    checks.expect("many-writers", locked == 0 and failed == 0 and logged == 50,
                  f"50 writers: {locked} saw 'database is locked', {failed} failed, {logged} metrics logged")
    return f"50 `mlops log` processes: {failed} failed, {locked} saw 'database is locked', {logged}/50 metrics; serve answered {answered['ok']} predictions meanwhile ({sum(answered.values()) - answered['ok']} errors)"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--instants", type=int, default=220, help="kills across the five cases (at least 200 asked)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    base = tempfile.mkdtemp(prefix="mlops-crash-")
    checks = Checks()
    receiver = Receiver()
    share = {"job-run": 0.23, "rollout": 0.2, "scheduler": 0.15, "monitor": 0.12, "serve": 0.15, "outcomes": 0.15}
    n = {k: max(1, round(v * args.instants)) for k, v in share.items()}
    rows = []
    started = time.monotonic()
    try:
        for name, case in [("job-run", job_run_case), ("rollout", rollout_case), ("scheduler", scheduler_case)]:
            t = time.monotonic()
            crashes, window = case(base, rng, checks, n[name], receiver)
            rows.append((name, n[name], crashes, window, time.monotonic() - t))
            print(f"{name}: {n[name]} instants, {crashes} while running", file=sys.stderr, flush=True)
        t = time.monotonic()
        crashes, window, retrains = monitor_case(base, rng, checks, n["monitor"])
        rows.append(("monitor", n["monitor"], crashes, window, time.monotonic() - t))
        print(f"monitor: {n['monitor']} instants, {retrains} retrains started", file=sys.stderr, flush=True)
        checks.expect("fires", retrains > 0, "monitor: no retrain was ever started: the case tests nothing")
        t = time.monotonic()
        crashes, window, serve_ws, acked = serve_case(base, rng, checks, n["serve"], receiver)
        rows.append(("serve", n["serve"], crashes, window, time.monotonic() - t))
        print(f"serve: {n['serve']} instants, {acked} predictions acknowledged", file=sys.stderr, flush=True)
        t = time.monotonic()
        crashes, window = outcomes_case(serve_ws, rng, checks, n["outcomes"])
        rows.append(("outcomes", n["outcomes"], crashes, window, time.monotonic() - t))
        time.sleep(1)
        checks.expect("notices", receiver.duplicates() == 0,
                      f"{receiver.duplicates()} notifications reached a receiver twice (of {len(receiver.bodies)}): {receiver.repeated()[:5]}")
        full_disk = full_disk_case(base, checks)
        writers = many_writers_case(base, checks, receiver)
    finally:
        receiver.server.shutdown()
        shutil.rmtree(base, ignore_errors=True)
    print("| case | instants | killed while running | window (s) | time (s) |")
    print("|---|---|---|---|---|")
    for name, count, crashes, window, took in rows:
        print(f"| {name} | {count} | {crashes} | {window:.2f} | {took:.0f} |")
    total = sum(r[1] for r in rows)
    print(f"\n{total} instants in {time.monotonic() - started:.0f} s; {len(receiver.bodies)} notifications received, "
          f"{receiver.duplicates()} twice")
    print(f"full disk: {full_disk}")
    print(f"many writers: {writers}")
    print("\n| invariant | checks held | broken |")
    print("|---|---|---|")
    for name in sorted(set(checks.held) | set(checks.broken)):
        print(f"| {name} | {checks.held[name]} | {len(checks.broken[name])} |")
    for name, details in checks.broken.items():
        for d in details[:5]:
            print(f"BROKEN {name}: {d}", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"instants": total, "cases": rows, "held": checks.held, "broken": {k: len(v) for k, v in checks.broken.items()},
                       "full_disk": full_disk, "many_writers": writers}, f)
    return 1 if any(checks.broken.values()) else 0


if __name__ == "__main__":
    sys.exit(main())

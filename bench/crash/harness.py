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
import argparse, collections, hashlib, http.server, json, os, random, re, shutil, signal, sqlite3
import subprocess, sys, tempfile, threading, time, urllib.request

BIN = os.environ.get("MLOPS_BIN", ".build/release/mlops")


class Workspace:
    def __init__(self, root, spec):
        self.root = root
        os.makedirs(root, exist_ok=True)
        with open(f"{root}/jobs.yaml", "w") as f:
            f.write(spec)

    @property
    def store(self):
        return f"{self.root}/experiments/mlops.sqlite"

    def env(self, extra=None):
        env = dict(os.environ, NO_COLOR="1")
        env.update(extra or {})
        return env

    def run(self, *args, env=None, check=False, timeout=300):
        p = subprocess.run([BIN, *args, "-C", self.root], capture_output=True, text=True, env=self.env(env), timeout=timeout)
        if check and p.returncode != 0:
            raise RuntimeError(f"mlops {' '.join(args)}: exit {p.returncode}: {p.stderr}")
        return p

    def start(self, *args, env=None):
        return subprocess.Popen([BIN, *args, "-C", self.root], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=self.env(env))

    def query(self, sql, *params):
        db = sqlite3.connect(f"file:{self.store}?mode=ro", uri=True, timeout=30)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()


def kill_during(process, at):
    """SIGKILL `process` `at` seconds from now; True when it was still running (a real crash)."""
    deadline = time.monotonic() + at
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        time.sleep(min(0.002, max(0, deadline - time.monotonic())))
    alive = process.poll() is None
    if alive:
        process.send_signal(signal.SIGKILL)
    process.wait()
    return alive


class Receiver:
    """A webhook receiver on loopback that keeps every body it gets."""
    def __init__(self):
        self.bodies = []
        lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    outer.bodies.append((self.path, json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def repeated(self):
        seen = collections.Counter((path, body.get("id"), body.get("event")) for path, body in self.bodies)
        return [k for k, n in seen.items() if n > 1]

    def duplicates(self):
        seen = collections.Counter((path, body.get("id")) for path, body in self.bodies)
        return sum(n - 1 for n in seen.values() if n > 1)


class Checks:
    """Invariants over one workspace's store; each failure is kept with its case and instant."""
    def __init__(self):
        self.held = collections.Counter()
        self.broken = collections.defaultdict(list)

    def expect(self, name, ok, detail):
        if ok:
            self.held[name] += 1
        else:
            self.broken[name].append(detail)

    def store(self, ws, where):
        ws.run("runs", "--json")  # reaps what the dead process left, as any next command does
        running = ws.query("SELECT run_uuid, kind, stage FROM runs WHERE status = 'RUNNING'")
        self.expect("running", not running, f"{where}: still RUNNING: {running[:3]}")
        self.aliases(ws, where)
        ok = ws.query("PRAGMA integrity_check")[0][0] == "ok" and not ws.query("PRAGMA foreign_key_check")
        self.expect("integrity", ok, f"{where}: integrity_check failed")

    def aliases(self, ws, where):
        for name, alias, version in ws.query("SELECT name, alias, version FROM registered_model_aliases"):
            row = ws.query("SELECT status, storage_location, files FROM model_versions WHERE name = ? AND version = ?", name, version)
            good = bool(row) and row[0][0] == "READY"
            if good:
                for f in json.loads(row[0][2] or "[]"):
                    try:
                        with open(f"{row[0][1]}/{f['path']}", "rb") as data:
                            good = good and hashlib.sha256(data.read()).hexdigest() == f["sha256"]
                    except OSError:
                        good = False
            self.expect("aliases", good, f"{where}: {name}@{alias} -> v{version} is not READY and intact")
        for model, state, stable in ws.query("""SELECT model_name, state, stable_version FROM rollouts
                                                WHERE state IN ('pending', 'progressing', 'paused')"""):
            champion = ws.query("SELECT version FROM registered_model_aliases WHERE name = ? AND alias = 'champion'", model)
            ok = stable is None or (champion and champion[0][0] == stable)
            self.expect("rollouts", ok, f"{where}: {model} rollout {state} on v{stable} but champion is {champion}")


# --- the five cases -----------------------------------------------------------------------------

def job_run_case(base, rng, checks, instants, receiver):
    spec = f"""version: 1
notify:
  - webhook: http://127.0.0.1:{receiver.port}/job
jobs:
  crash:
    stages:
      prep: {{ shell: true, run: 'mlops log metric prep 1' }}
      b1: {{ needs: [prep], shell: true, run: 'sleep 0.05; mlops log metric b1 1' }}
      b2: {{ needs: [prep], shell: true, run: 'sleep 0.10; mlops log param b2 yes' }}
      b3: {{ needs: [prep], shell: true, run: 'sleep 0.02; mlops log tag b3 yes' }}
      flaky:
        needs: [prep]
        retries: 2
        retry_delay: 100ms
        shell: true
        run: 'if [ ! -f flaky.$MLOPS_PARENT_RUN_ID ]; then touch flaky.$MLOPS_PARENT_RUN_ID; exit 1; fi'
      fails: {{ needs: [prep], shell: true, run: 'test $(($RANDOM % 3)) -ne 0' }}
      final: {{ needs: [b1, b2, b3, flaky], shell: true, run: 'mlops log metric final 1' }}
"""
    ws = Workspace(f"{base}/job", spec)
    started = time.monotonic()
    ws.run("run", "crash", "-q")
    window = (time.monotonic() - started) * 1.1
    crashes = 0
    for i in range(instants):
        p = ws.start("run", "crash", "-q")
        crashes += kill_during(p, rng.uniform(0, window))
        checks.store(ws, f"job-run #{i}")
    last = ws.run("run", "crash", "-q")  # and it runs again afterwards, to its end
    checks.expect("running", last.returncode in (0, 1) and not ws.query("SELECT 1 FROM runs WHERE status = 'RUNNING'"),
                  f"job-run: the run after the crashes: exit {last.returncode}: {last.stderr[-300:]}")
    return crashes, window


ROW = {"age": 40, "income": 30000, "tenure_months": 20, "products": 2, "days_since_purchase": 10, "web_visits": 3,
       "channel": "web", "region": "north"}

ROLLOUT_SPEC = """version: 1
notify:
  - webhook: http://127.0.0.1:{port}/rollout
jobs:
  weekly:
    params: {{ week: 8 }}
    stages:
      ingest: {{ uses: synthetic-cohort, with: {{ customers: 600, week: "${{params.week}}", history_weeks: 2 }} }}
      train: {{ needs: [ingest], uses: logistic-regression }}
      deploy:
        needs: [train]
        uses: deploy
        with: {{ model: p, strategy: canary, steps: [ {{ set_weight: 25 }}, {{ pause: {{}} }}, {{ set_weight: 75 }}, {{ pause: {{}} }} ] }}
"""


def rollout_case(base, rng, checks, instants, receiver):
    ws = Workspace(f"{base}/rollout", ROLLOUT_SPEC.format(port=receiver.port))
    ws.run("run", "weekly", "-q", check=True)
    windows = {}
    week = 9
    crashes = 0
    for i in range(instants):
        in_flight = ws.query("SELECT COUNT(*) FROM rollouts WHERE state IN ('pending', 'progressing', 'paused')")[0][0]
        if not in_flight:
            week += 1
            action = ("run", "weekly", "-q", "--param", f"week={week}")
        else:
            action = rng.choice([("promote", "p"), ("abort", "p", "--reason", "harness"), ("rollback", "p"),
                                 ("rollouts", "advance")])
        key = action[0]
        if key not in windows:
            started = time.monotonic()
            ws.run(*action)
            windows[key] = (time.monotonic() - started) * 1.1
            checks.store(ws, f"rollout #{i} ({key}, not killed)")
            continue
        p = ws.start(*action)
        crashes += kill_during(p, rng.uniform(0, windows[key]))
        checks.store(ws, f"rollout #{i} ({' '.join(action)})")
    return crashes, max(windows.values())


def scheduler_case(base, rng, checks, instants, receiver):
    spec = """version: 1
jobs:
  tick:
    schedule: "* * * * *"
    timezone: UTC
    catchup: latest
    stages:
      a: { shell: true, run: 'sleep 0.1; mlops log metric a 1' }
      b: { needs: [a], shell: true, run: 'sleep 0.2' }
"""
    ws = Workspace(f"{base}/scheduler", spec)
    minute = (int(time.time()) // 60 + 10) * 60
    crashes = 0
    for i in range(instants):
        # A virtual clock a second before the next minute: the fire comes due at once.
        target_ms = (minute + 60 * i) * 1000 - 800
        env = {"MLOPS_TIME_OFFSET_MS": str(target_ms - int(time.time() * 1000))}
        p = ws.start("scheduler", "--tick", "50ms", env=env)
        crashes += kill_during(p, rng.uniform(0.3, 2.0))
        ws.run("runs", "--json", env=env)
        checks.store(ws, f"scheduler #{i}")
        check_fires(ws, checks, f"scheduler #{i}")
    return crashes, 2.0


MONITOR_SPEC = ROLLOUT_SPEC.replace("notify:\n  - webhook: http://127.0.0.1:{port}/rollout\n", "") + """  retrain:
    stages:
      a: {{ shell: true, run: 'sleep 0.2; mlops log metric a 1' }}
      b: {{ needs: [a], shell: true, run: 'sleep 0.2' }}
monitors:
  hit:
    model: p
    metric: hit_rate
    baseline: 0.30
    window: 7d
    min_samples: 200
    breaches_to_trigger: 1
    cooldown: 2h
    every: 1m
    on_drop: {{ run: retrain }}
"""


def monitor_case(base, rng, checks, instants):
    """The daemon killed while its monitor sees a drop and starts retrains: each instant is 3 h of
    virtual time later (past the 2 h cooldown), with 300 new mature outcomes at a 5% hit rate
    against a 30% baseline. Predictions and outcomes are staged with SQL: no command writes
    predictions at a chosen time, and they are the monitor's input, not what is under test."""
    ws = Workspace(f"{base}/monitor", MONITOR_SPEC.format(port=0))
    ws.run("run", "weekly", "-q", check=True)
    version = ws.query("SELECT version FROM registered_model_aliases WHERE name = 'p' AND alias = 'champion'")[0][0]
    start = (int(time.time()) // 3600 + 24) * 3600 * 1000
    crashes = 0
    for i in range(instants):
        now = start + i * 3 * 3_600_000
        with sqlite3.connect(ws.store, timeout=30) as db:
            for k in range(300):
                cur = db.execute("""INSERT INTO predictions (run_uuid, model_name, model_version, entity_id, score, contacted, holdout, created_time)
                                    VALUES ('harness', 'p', ?, ?, 0.5, 1, 0, ?)""", (version, f"m{i}-{k}", now - 2 * 86_400_000))
                db.execute("INSERT INTO outcomes (prediction_id, label, observed_time, recorded_time) VALUES (?, ?, ?, ?)",
                           (cur.lastrowid, 1 if k % 20 == 0 else 0, now - 86_400_000, now - 86_400_000))
        env = {"MLOPS_TIME_OFFSET_MS": str(now - int(time.time() * 1000))}
        p = ws.start("scheduler", "--tick", "50ms", env=env)
        crashes += kill_during(p, rng.uniform(0.2, 2.0))
        ws.run("runs", "--json", env=env)
        checks.store(ws, f"monitor #{i}")
        triggered = ws.query("""SELECT t.value, COUNT(*) FROM runs r JOIN tags t ON t.run_uuid = r.run_uuid AND t.key = 'mlops.monitor_run'
                                WHERE r.kind = 'job' GROUP BY t.value HAVING COUNT(*) > 1""")
        checks.expect("fires", not triggered, f"monitor #{i}: one trigger started {triggered}")
        starts = [r[0] for r in ws.query("""SELECT r.start_time FROM runs r JOIN tags t ON t.run_uuid = r.run_uuid
                                            AND t.key = 'mlops.trigger' AND t.value = 'monitor' WHERE r.kind = 'job' ORDER BY 1""")]
        close = [b - a for a, b in zip(starts, starts[1:]) if b - a < 2 * 3_600_000]
        checks.expect("fires", not close, f"monitor #{i}: retrains {close} ms apart, inside the 2 h cooldown")
    retrains = ws.query("SELECT COUNT(*) FROM runs r JOIN tags t ON t.run_uuid = r.run_uuid AND t.key = 'mlops.trigger' AND t.value = 'monitor' WHERE r.kind = 'job'")[0][0]
    return crashes, 2.0, retrains


def check_fires(ws, checks, where):
    rows = ws.query("""SELECT t.value, r.run_uuid, r.status, r.start_time, COALESCE(r.end_time, 1 << 62)
                       FROM runs r JOIN tags t ON t.run_uuid = r.run_uuid AND t.key = 'mlops.fire_time'
                       WHERE r.kind = 'job' ORDER BY r.start_time""")
    by_fire = collections.defaultdict(list)
    for fire, run, status, start, end in rows:
        by_fire[fire].append((start, end, status))
    for fire, runs in by_fire.items():
        overlap = any(b[0] < a[1] for a, b in zip(runs, runs[1:]))
        finished = sum(1 for r in runs if r[2] == "FINISHED")
        checks.expect("fires", not overlap and finished <= 1, f"{where}: fire {fire} started twice: {runs}")


def serve_case(base, rng, checks, instants, receiver):
    # Each store numbers its notifications from 1: each workspace gets its own receiver path.
    ws = Workspace(f"{base}/serve", ROLLOUT_SPEC.format(port=receiver.port).replace("/rollout", "/serve"))
    ws.run("run", "weekly", "-q", check=True)
    acknowledged = {}
    crashes = 0
    for i in range(instants):
        p = ws.start("serve", "--port", "0")
        line = p.stdout.readline()
        match = re.search(r":(\d+)\s*$", line)
        if not match:
            p.kill()
            raise RuntimeError(f"serve did not start: {line!r} {p.stderr.read()}")
        url = f"http://127.0.0.1:{match.group(1)}/v1/models/p/predict"
        stop = threading.Event()

        def client(n):
            k = 0
            while not stop.is_set():
                entity = f"c{i}-{n}-{k}"
                k += 1
                body = json.dumps({"entity_id": entity, "features": ROW}).encode()
                try:
                    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
                    answer = json.loads(urllib.request.urlopen(request, timeout=5).read())
                    acknowledged[entity] = answer["prediction_id"]
                except Exception:
                    pass

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        crashes += kill_during(p, rng.uniform(0.2, 1.5))
        stop.set()
        for t in threads:
            t.join()
        checks.store(ws, f"serve #{i}")
        doubled = ws.query("SELECT COUNT(*) - COUNT(DISTINCT entity_id) FROM predictions WHERE run_uuid = 'serve'")[0][0]
        checks.expect("predictions", doubled == 0, f"serve #{i}: {doubled} predictions recorded twice")
    recorded = dict(ws.query("SELECT entity_id, id FROM predictions WHERE run_uuid = 'serve'"))
    lost = [e for e in acknowledged if recorded.get(e) != acknowledged[e]]
    checks.expect("predictions", not lost, f"serve: {len(lost)} of {len(acknowledged)} acknowledged predictions missing")
    return crashes, 1.5, ws, len(acknowledged)


def outcomes_case(ws, rng, checks, instants):
    ids = [row[0] for row in ws.query("SELECT id FROM predictions ORDER BY id")]
    with open(f"{ws.root}/outcomes.csv", "w") as f:
        f.write("prediction_id,outcome,time\n")
        for n, pid in enumerate(ids):
            f.write(f"{pid},{n % 2},2026-01-01\n")
    started = time.monotonic()
    ws.run("outcomes", "import", f"{ws.root}/outcomes.csv", check=True)
    window = (time.monotonic() - started) * 1.1
    with sqlite3.connect(ws.store) as db:
        db.execute("DELETE FROM outcomes")
    crashes = 0
    for i in range(instants):
        before = ws.query("SELECT COUNT(*) FROM outcomes")[0][0]
        p = ws.start("outcomes", "import", f"{ws.root}/outcomes.csv")
        crashes += kill_during(p, rng.uniform(0, window))
        after = ws.query("SELECT COUNT(*) FROM outcomes")[0][0]
        checks.expect("outcomes", after in (before, len(ids)), f"outcomes #{i}: {after} of {len(ids)} outcomes after a kill (was {before})")
        checks.store(ws, f"outcomes #{i}")
        if after == len(ids):
            with sqlite3.connect(ws.store) as db:
                db.execute("DELETE FROM outcomes")
    ws.run("outcomes", "import", f"{ws.root}/outcomes.csv", check=True)
    ws.run("outcomes", "import", f"{ws.root}/outcomes.csv", check=True)
    count = ws.query("SELECT COUNT(*), COUNT(DISTINCT prediction_id) FROM outcomes")[0]
    checks.expect("outcomes", count == (len(ids), len(ids)), f"outcomes: {count} after importing {len(ids)} twice")
    return crashes, window


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

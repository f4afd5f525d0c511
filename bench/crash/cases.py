"""The six cases: each kills `mlops` at random instants while it does one kind of work, and
checks the invariants after each kill."""
import collections, json, re, sqlite3, threading, time, urllib.request

from fixtures import Workspace, kill_during


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

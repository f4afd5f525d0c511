"""Fills a migrated mlops store with 10,000 job runs, 100,000 metrics (10 per run), params and
tags, straight through SQLite, to measure search at scale."""
import random, sqlite3, sys, uuid

db = sqlite3.connect(sys.argv[1])
rng = random.Random(42)
db.execute("INSERT OR IGNORE INTO experiments (name, creation_time, last_update_time) VALUES ('weekly', 0, 0)")
exp = db.execute("SELECT experiment_id FROM experiments WHERE name = 'weekly'").fetchone()[0]
runs, params, tags, metrics = [], [], [], []
for i in range(10_000):
    rid = uuid.UUID(int=rng.getrandbits(128)).hex
    start = 1_700_000_000_000 + i * 60_000
    status = rng.choice(["FINISHED"] * 8 + ["FAILED", "KILLED"])
    runs.append((rid, exp, "weekly", status, start, start + rng.randint(1000, 90000), "job", "weekly",
                 rng.choice(["manual", "schedule", "monitor"])))
    params += [(rid, "l2", rng.choice(["0.1", "1.0", "10.0"])), (rid, "top_k", "1000")]
    tags += [(rid, "mlops.trigger", runs[-1][-1]), (rid, "mlops.job", "weekly")]
    for k in ["auc", "log_loss", "brier", "hit_rate_at_k", "lift_at_k", "ece", "base_rate", "precision", "recall", "f1"]:
        metrics.append((rid, k, rng.random(), start, 0, 0))
db.executemany("INSERT INTO runs (run_uuid, experiment_id, name, status, start_time, end_time, kind, job, trigger) VALUES (?,?,?,?,?,?,?,?,?)", runs)
db.executemany("INSERT INTO params (run_uuid, key, value) VALUES (?,?,?)", params)
db.executemany("INSERT INTO tags (run_uuid, key, value) VALUES (?,?,?)", tags)
db.executemany("INSERT INTO metrics (run_uuid, key, value, timestamp, step, is_nan) VALUES (?,?,?,?,?,?)", metrics)
db.executemany("INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step, is_nan) VALUES (?,?,?,?,?,?)", metrics)
db.commit()
db.execute("ANALYZE")
db.close()

"""Fills a migrated mlops store with 10,000 job runs (FILL_RUNS to change it), 10 metrics a run, params and
tags, to measure search at scale: straight through SQLite for a file, or as COPY blocks piped to
psql for a postgresql:// URL (python3 bench/fill_store.py URL | psql URL)."""
import os, random, sqlite3, sys, uuid

target = sys.argv[1]
rng = random.Random(42)
runs, params, tags, metrics = [], [], [], []
for i in range(int(os.environ.get("FILL_RUNS", "10000"))):
    rid = uuid.UUID(int=rng.getrandbits(128)).hex
    start = 1_700_000_000_000 + i * 60_000
    status = rng.choice(["FINISHED"] * 8 + ["FAILED", "KILLED"])
    runs.append([rid, None, "weekly", status, start, start + rng.randint(1000, 90000), "job", "weekly",
                 rng.choice(["manual", "schedule", "monitor"])])
    params += [(rid, "l2", rng.choice(["0.1", "1.0", "10.0"])), (rid, "top_k", "1000")]
    tags += [(rid, "mlops.trigger", runs[-1][-1]), (rid, "mlops.job", "weekly")]
    for k in ["auc", "log_loss", "brier", "hit_rate_at_k", "lift_at_k", "ece", "base_rate", "precision", "recall", "f1"]:
        metrics.append((rid, k, rng.random(), start, 0, 0))

RUN_COLUMNS = "run_uuid, experiment_id, name, status, start_time, end_time, kind, job, trigger"

if target.startswith("postgres"):
    out = sys.stdout
    out.write("INSERT INTO experiments (name, creation_time, last_update_time) VALUES ('weekly', 0, 0) ON CONFLICT DO NOTHING;\n")
    out.write("CREATE TEMP TABLE fill_runs AS SELECT * FROM runs WHERE false;\n")
    out.write("ALTER TABLE fill_runs ALTER COLUMN experiment_id DROP NOT NULL;\n")
    def copy(table, columns, rows):
        out.write(f"COPY {table} ({columns}) FROM STDIN;\n")
        for row in rows:
            out.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
        out.write("\\.\n")
    copy("fill_runs", RUN_COLUMNS, runs)
    out.write(f"INSERT INTO runs ({RUN_COLUMNS}) SELECT run_uuid, (SELECT experiment_id FROM experiments WHERE name = 'weekly'), "
              "name, status, start_time, end_time, kind, job, trigger FROM fill_runs;\n")
    copy("params", "run_uuid, key, value", params)
    copy("tags", "run_uuid, key, value", tags)
    copy("metrics", "run_uuid, key, value, timestamp, step, is_nan", metrics)
    copy("latest_metrics", "run_uuid, key, value, timestamp, step, is_nan", metrics)
    out.write("ANALYZE;\n")
else:
    db = sqlite3.connect(target)
    db.execute("INSERT OR IGNORE INTO experiments (name, creation_time, last_update_time) VALUES ('weekly', 0, 0)")
    exp = db.execute("SELECT experiment_id FROM experiments WHERE name = 'weekly'").fetchone()[0]
    for run in runs:
        run[1] = exp
    db.executemany(f"INSERT INTO runs ({RUN_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)", runs)
    db.executemany("INSERT INTO params (run_uuid, key, value) VALUES (?,?,?)", params)
    db.executemany("INSERT INTO tags (run_uuid, key, value) VALUES (?,?,?)", tags)
    db.executemany("INSERT INTO metrics (run_uuid, key, value, timestamp, step, is_nan) VALUES (?,?,?,?,?,?)", metrics)
    db.executemany("INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step, is_nan) VALUES (?,?,?,?,?,?)", metrics)
    db.commit()
    db.execute("ANALYZE")
    db.close()

"""One tracking server's figures through the real mlflow client: single log_metric calls, log_batch
of 1,000 metrics, and search_runs over 1,000 runs with a filter and an order. Prints JSON.

    python bench/mlflow_bench.py http://127.0.0.1:5000
"""
import json
import statistics
import sys
import time

from mlflow import MlflowClient
from mlflow.entities import Metric

uri = sys.argv[1]
client = MlflowClient(uri)
exp = client.create_experiment(f"bench-{time.time_ns()}")
run = client.create_run(exp).info.run_id

# Single log_metric calls, one HTTP request each.
n_single = int(sys.argv[2]) if len(sys.argv) > 2 else 300
start = time.perf_counter()
for i in range(n_single):
    client.log_metric(run, "loss", 1.0 / (i + 1), step=i)
single_rate = n_single / (time.perf_counter() - start)

# log_batch of 1,000 metrics.
n_batches = 20
now = int(time.time() * 1000)
batches = [[Metric("batch", float(j), now, b * 1000 + j) for j in range(1000)] for b in range(n_batches)]
start = time.perf_counter()
for batch in batches:
    client.log_batch(run, metrics=batch)
batch_seconds = (time.perf_counter() - start) / n_batches

# search_runs over 1,000 runs in one experiment, each with an auc and a param.
search_exp = client.create_experiment(f"search-{time.time_ns()}")
for i in range(1000):
    r = client.create_run(search_exp, tags={"group": "a" if i % 2 else "b"})
    client.log_batch(r.info.run_id, metrics=[Metric("auc", (i % 997) / 997, now, 0)])
times = []
for _ in range(5):
    start = time.perf_counter()
    found = client.search_runs([search_exp], filter_string="metrics.auc > 0.5 and tags.group = 'a'",
                               order_by=["metrics.auc DESC"], max_results=1000)
    times.append(time.perf_counter() - start)
print(json.dumps({
    "log_metric_per_s": round(single_rate, 1),
    "log_batch_1000_ms": round(batch_seconds * 1000, 1),
    "log_batch_metrics_per_s": round(1000 / batch_seconds),
    "search_1000_runs_ms": round(statistics.median(times) * 1000, 1),
    "search_found": len(found),
}))

"""One tracking server's figures through the real mlflow client, and the same requests' server time.
Prints JSON.

    python bench/mlflow_bench.py http://127.0.0.1:5000 [single_calls]

Through the client: single log_metric calls, log_batch of 1,000 metrics, search_runs over 1,000 runs
with a filter and an order, each as a script sees it (the client's own protobuf and JSON work
included). Server: the very request bodies the client sends, posted on one keep-alive connection,
from the first byte sent to the last byte of the answer read; the client's encoding and decoding
are left out, so the two servers are compared on what they do.
"""
import json
import os
import subprocess
import statistics
import sys
import time

import requests
from mlflow import MlflowClient
from mlflow.entities import Metric
from mlflow.protos.service_pb2 import LogBatch
from mlflow.utils.proto_json_utils import message_to_json

uri = sys.argv[1]
client = MlflowClient(uri)
session = requests.Session()
exp = client.create_experiment(f"bench-{time.time_ns()}")
run = client.create_run(exp).info.run_id


def post_ms(path, body):
    start = time.perf_counter()
    response = session.post(uri + "/api/2.0/mlflow/" + path, data=body, headers={"Content-Type": "application/json"})
    response.content
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, response.text[:300]
    return elapsed


# Single log_metric calls, one HTTP request each.
n_single = int(sys.argv[2]) if len(sys.argv) > 2 else 300
start = time.perf_counter()
for i in range(n_single):
    client.log_metric(run, "loss", 1.0 / (i + 1), step=i)
single_rate = n_single / (time.perf_counter() - start)

# log_batch of 1,000 metrics: through the client, then the same bodies (new steps) straight.
n_batches = 20
now = int(time.time() * 1000)
batches = [[Metric("batch", float(j), now, b * 1000 + j) for j in range(1000)] for b in range(2 * n_batches)]
start = time.perf_counter()
for batch in batches[:n_batches]:
    client.log_batch(run, metrics=batch)
batch_seconds = (time.perf_counter() - start) / n_batches
bodies = [message_to_json(LogBatch(run_id=run, metrics=[m.to_proto() for m in batch])) for batch in batches[n_batches:]]
batch_server_ms = statistics.median(post_ms("runs/log-batch", body) for body in bodies)

# search_runs over 1,000 runs in one experiment, each with an auc and a tag.
search_exp = client.create_experiment(f"search-{time.time_ns()}")
for i in range(1000):
    r = client.create_run(search_exp, tags={"group": "a" if i % 2 else "b"})
    client.log_batch(r.info.run_id, metrics=[Metric("auc", (i % 997) / 997, now, 0)])
# A database server's planner needs statistics on the tables just filled; its autovacuum takes them
# within a minute. BENCH_BEFORE_SEARCH (a shell command, such as psql's ANALYZE) takes them now.
if os.environ.get("BENCH_BEFORE_SEARCH"):
    subprocess.run(os.environ["BENCH_BEFORE_SEARCH"], shell=True, check=True)
query = {"filter": "metrics.auc > 0.5 and tags.group = 'a'", "order_by": ["metrics.auc DESC"], "max_results": 1000}
times = []
for _ in range(7):
    start = time.perf_counter()
    found = client.search_runs([search_exp], filter_string=query["filter"], order_by=query["order_by"], max_results=1000)
    times.append(time.perf_counter() - start)
search_body = json.dumps({"experiment_ids": [search_exp], **query})
search_server_ms = statistics.median(post_ms("runs/search", search_body) for _ in range(7))

print(json.dumps({
    "log_metric_per_s": round(single_rate, 1),
    "log_batch_1000_ms": round(batch_seconds * 1000, 1),
    "log_batch_1000_server_ms": round(batch_server_ms, 1),
    "search_1000_runs_ms": round(statistics.median(times) * 1000, 1),
    "search_1000_runs_server_ms": round(search_server_ms, 1),
    "search_found": len(found),
}))

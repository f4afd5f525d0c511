"""Scores one shard of the week's customer base: the customers whose id falls to this shard
(MLOPS_SHARD_INDEX of MLOPS_SHARD_COUNT), with the propensity model in model.json. Writes its
predictions and a one-line summary to $MLOPS_ARTIFACTS, and logs its metrics to the stage's run."""
import csv, json, math, os, random, zlib

index = int(os.environ.get("MLOPS_SHARD_INDEX", "0"))
count = int(os.environ.get("MLOPS_SHARD_COUNT", "1"))
customers = int(os.environ.get("MLOPS_PARAM_CUSTOMERS", "10000"))
top_k = int(os.environ.get("MLOPS_PARAM_TOP_K", "1000"))
out = os.environ.get("MLOPS_ARTIFACTS", ".")
model = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "model.json")))

# This shard's customers: a stable hash of the id, so every customer is scored exactly once.
mine = [c for c in range(customers) if zlib.crc32(str(c).encode()) % count == index]
rows = []
for c in mine:
    rng = random.Random(c)   # the customer's features, the same in every run
    features = {name: rng.gauss(0, 1) for name in model["weights"]}
    z = model["intercept"] + sum(model["weights"][n] * v for n, v in features.items())
    rows.append((c, 1 / (1 + math.exp(-z))))

# Each shard contacts its share of top_k, from its own ranking (the slices are hash-random).
share = round(top_k * len(rows) / customers)
contacted = set(c for c, _ in sorted(rows, key=lambda r: -r[1])[:share])
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "predictions.csv"), "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["customer_id", "score", "contacted"])
    for c, score in rows:
        writer.writerow([c, f"{score:.6f}", int(c in contacted)])
mean = sum(s for _, s in rows) / max(1, len(rows))
with open(os.path.join(out, "summary.txt"), "w") as f:
    f.write(f"shard {index}/{count}: scored {len(rows)}, contacted {len(contacted)}, mean score {mean:.4f}\n")
print(f"shard {index}/{count}: scored {len(rows)} customers, contacted {len(contacted)}", flush=True)

try:
    import mlflow
except ImportError:
    mlflow = None
if mlflow and os.environ.get("MLFLOW_TRACKING_URI"):
    mlflow.log_metrics({"scored": len(rows), "contacted": len(contacted), "mean_score": mean})

"""Writes the "## Serving" section of bench/RESULTS.md from bench/run-serve's RESULT lines."""
import re
import sys
import subprocess

results, path, duration = sys.argv[1], sys.argv[2], sys.argv[3]
rows = {}
for line in open(results):
    parts = line.split()
    if parts[0] != "RESULT":
        continue
    rows[parts[1]] = dict(p.split("=", 1) for p in parts[2:])

def cpu():
    try:
        return next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except Exception:
        return "unknown"

def row(name, label):
    r = rows.get(name)
    if not r:
        return f"| {label} | not measured | | | | |"
    errors = int(r["errors"]) + int(r["timeouts"]) + int(r["connect"]) + int(r["read"]) + int(r["write"])
    return f"| {label} | {float(r['rps']):,.0f} | {float(r['p50_ms']):.2f} | {float(r['p99_ms']):.2f} | {float(r['max_ms']):.1f} | {errors} |"

m, s, f = rows.get("mlops", {}), rows.get("mlops-switch", {}), rows.get("fastapi", {})
def met(cond):
    return "yes" if cond else "**no**"
lines = [
    "## Serving",
    "",
    f"`bench/run-serve`: `wrk -t2 -c32 -d{duration}s` POSTing one row a request (10,000 distinct customers) to",
    "`/v1/models/propensity/predict` on 127.0.0.1, after a 3 s warm-up; wrk and the server share the",
    f"machine's 2 cores ({cpu()}). mlops is the release binary (static Swift runtime); the peer is",
    "FastAPI + uvicorn (2 workers) + a scikit-learn pipeline trained on the same history.",
    "",
    "| server | requests/s | p50 ms | p99 ms | max ms | errors (non-2xx, socket) |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    row("mlops", "mlops serve"),
    row("mlops-switch", "mlops serve, blue-green switch to v2 then rollback to v1 during the run"),
    row("fastapi", "FastAPI + uvicorn + scikit-learn"),
    "",
]
if m:
    lines += [
        "| figure | measured | target | met |",
        "| --- | --- | --- | --- |",
        f"| requests/s, one row | {float(m['rps']):,.0f} | ≥ 20,000 | {met(float(m['rps']) >= 20000)} |",
        f"| p99 latency | {float(m['p99_ms']):.2f} ms | < 5 ms | {met(float(m['p99_ms']) < 5)} |",
    ]
    if s:
        errs = sum(int(s[k]) for k in ("errors", "timeouts", "connect", "read", "write"))
        lines.append(f"| errors during the switch and rollback | {errs} | 0 | {met(errs == 0)} |")
        lines.append(f"| requests/s during the switch | {float(s['rps']):,.0f} | ≥ 20,000 | {met(float(s['rps']) >= 20000)} |")
    if f:
        lines.append(f"| against FastAPI + uvicorn | {float(m['rps']) / float(f['rps']):.0f}× the requests/s, p99 {float(f['p99_ms']) / max(0.001, float(m['p99_ms'])):.0f}× lower | | |")
    rec = rows.get("recorded")
    if rec:
        answered = int(m.get("requests", 0)) + int(s.get("requests", 0))
        lines += ["", f"Predictions recorded by the server: {int(rec['predictions']):,}, by versions {rec['versions']}; the two measured runs "
                  f"got {answered:,} answers, the rest are the warm-up's."]
    lines.append("")

text = open(path).read() if __import__("os").path.exists(path) else ""
section = "\n".join(lines) + "\n"
if "## Serving" in text:
    text = re.sub(r"## Serving\n.*?(?=\n## |\Z)", section.rstrip("\n") + "\n", text, flags=re.S)
else:
    text = text.rstrip("\n") + "\n\n" + section
open(path, "w").write(text)

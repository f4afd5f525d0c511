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

steady = [rows[k] for k in ("mlops-1", "mlops-2", "mlops-3") if k in rows]
# The figures are the median run's; the targets must hold in every run.
m = sorted(steady, key=lambda r: float(r["rps"]))[len(steady) // 2] if steady else rows.get("mlops", {})
s, f = rows.get("mlops-switch", {}), rows.get("fastapi", {})
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
    row("mlops-1", "mlops serve, run 1"),
    row("mlops-2", "mlops serve, run 2"),
    row("mlops-3", "mlops serve, run 3"),
    row("mlops-switch", "mlops serve, blue-green switch to v2 then rollback to v1 during the run"),
    row("fastapi", "FastAPI + uvicorn + scikit-learn"),
    "",
]
if m:
    lines += [
        "| figure | measured | target | met |",
        "| --- | --- | --- | --- |",
        f"| requests/s, one row (median run; lowest {min(float(r['rps']) for r in steady):,.0f}) | {float(m['rps']):,.0f} | ≥ 30,000 in each run | {met(all(float(r['rps']) >= 30000 for r in steady))} |",
        f"| p99 latency (median run; highest {max(float(r['p99_ms']) for r in steady):.2f} ms) | {float(m['p99_ms']):.2f} ms | < 5 ms in each run | {met(all(float(r['p99_ms']) < 5 for r in steady))} |",
    ]
    if s:
        errs = sum(int(s[k]) for k in ("errors", "timeouts", "connect", "read", "write"))
        lines.append(f"| errors during the switch and rollback | {errs} | 0 | {met(errs == 0)} |")
        lines.append(f"| requests/s during the switch | {float(s['rps']):,.0f} | ≥ 30,000 | {met(float(s['rps']) >= 30000)} |")
    if f:
        lines.append(f"| against FastAPI + uvicorn | {float(m['rps']) / float(f['rps']):.0f}× the requests/s, p99 {float(f['p99_ms']) / max(0.001, float(m['p99_ms'])):.0f}× lower | | |")
    rec = rows.get("recorded")
    if rec:
        answered = sum(int(r.get("requests", 0)) for r in steady + [s, rows.get("profiled", {})])
        lines += ["", f"Predictions recorded by the server: {int(rec['predictions']):,}, by versions {rec['versions']}; the measured runs "
                  f"got {answered:,} answers (the rest are the warm-ups'): every answer was recorded before it was sent."]
    lines += ["", "What bounds it, from the profile below: wrk takes one of the two cores, and the server spends about 60 µs "
              "of the other a request: SQLite inserting the prediction (a row and four index entries) ~12%, the kernel "
              "(socket reads and writes, wake-ups) ~17%, retain/release ~12%, malloc/free ~5%. Since issue 14 a request "
              "is answered only once its prediction has committed (group commit; before, up to 50 ms of acknowledged "
              "predictions were lost to a kill -9): that moved p99 from ~7.3 ms to ~9 ms. Tried and reverted: "
              "checkpointing the WAL from a connection of its own in PASSIVE mode (p99 5.4 and 6.0 ms in two runs, but "
              "one run stalled 1.2 s as the never-reset WAL grew), and with a RESTART past 32 MB (p99 ~50 ms). Not "
              "tried yet: fewer indexes on the rows serve writes, one allocation less a request, wrk on another machine."]
    folder = __import__("os").path.dirname(results)
    for name, title in (("profile-dso.txt", "by library"), ("profile-sym.txt", "by function")):
        p = __import__("os").path.join(folder, name)
        if __import__("os").path.exists(p) and open(p).read().strip():
            lines += ["", f"Where the server's CPU time goes under this load (`perf record -e cpu-clock`, 10 s, {title}):", "", "```"]
            lines += [l.rstrip()[:120] for l in open(p) if l.strip()]
            lines += ["```"]
    lines.append("")

text = open(path).read() if __import__("os").path.exists(path) else ""
section = "\n".join(lines) + "\n"
if "## Serving" in text:
    text = re.sub(r"## Serving\n.*?(?=\n## |\Z)", section.rstrip("\n") + "\n", text, flags=re.S)
else:
    text = text.rstrip("\n") + "\n\n" + section
open(path, "w").write(text)

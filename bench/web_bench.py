"""The measurements behind bench/run-web; see that script for what and why."""
import base64, json, os, socket, sqlite3, statistics, subprocess, sys, time, urllib.parse, urllib.request

binary, work, results = sys.argv[1:4]
db = sqlite3.connect(f"{work}/experiments/mlops.sqlite")
# One run with a metric of 1,000,000 points (a long training curve).
long_run = db.execute("SELECT run_uuid FROM runs ORDER BY start_time LIMIT 1").fetchone()[0]
db.executemany("INSERT INTO metrics (run_uuid, key, value, timestamp, step, is_nan) VALUES (?, 'loss', ?, ?, ?, 0)",
               ((long_run, 1 / (1 + i / 1000) + (0.5 if i == 777_777 else 0), 1_700_000_000_000 + i, i) for i in range(1_000_000)))
db.execute("INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step, is_nan) VALUES (?, 'loss', 0.001, 0, 999999, 0) "
           "ON CONFLICT DO NOTHING", (long_run,))
# The cursor of the run 99,000 deep in the default order (start time descending, then id).
deep = db.execute("SELECT start_time, run_uuid FROM runs WHERE kind = 'job' ORDER BY start_time DESC, run_uuid LIMIT 1 OFFSET 99000").fetchone()
db.commit()
token = base64.urlsafe_b64encode(json.dumps([f"i{deep[0]}", f"t{deep[1]}"]).encode()).decode().rstrip("=")

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
server = subprocess.Popen([binary, "server", "--port", str(port), "-C", work], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
base = f"http://127.0.0.1:{port}"
for _ in range(200):
    try:
        urllib.request.urlopen(base + "/health").read()
        break
    except Exception:
        time.sleep(0.05)

def page(path, runs=20):
    times, size = [], 0
    for i in range(runs + 2):
        start = time.perf_counter()
        body = urllib.request.urlopen(base + path).read()
        if i >= 2:   # two warm-ups
            times.append((time.perf_counter() - start) * 1000)
        size = len(body)
    return statistics.median(times), size

q = urllib.parse.quote
figures = {
    "first": page("/runs"),
    "deep": page(f"/runs?after={token}"),
    "filtered": page(f"/runs?filter={q('metrics.auc > 0.5 and params.l2 = ' + chr(39) + '1.0' + chr(39))}&order_by={q('metrics.auc DESC')}&cols={q('metrics.auc,metrics.ece,params.l2')}"),
    "long": page(f"/runs/{long_run}", runs=10),
}
server.terminate()
server.wait()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
def met(ok): return "yes" if ok else "**no**"
rows = [("runs table, first page of 50", "first", 100), ("runs table, a page 99,000 runs deep (keyset cursor)", "deep", 100),
        ("filtered, ordered by a metric, 3 chosen columns", "filtered", 100), ("a run with a 1,000,000-point metric", "long", 50)]
lines = ["## The web view", "",
         f"`bench/run-web` ({time.strftime('%Y-%m-%d', time.gmtime())}, {os.cpu_count()} cores, {cpu}): `mlops server` "
         f"({'release build' if '/release/' in binary else 'debug build'}) on a SQLite store of 100,000 job runs "
         "(10 metrics, params and tags each) and one run with a metric of 1,000,000 points; each page requested from a client "
         "on loopback, median of 20 (10 for the long metric) after two warm-ups, so the time is the server's plus a loopback round trip.", "",
         "| page | time | target | met | HTML | < 200 KB |", "| --- | ---: | --- | --- | ---: | --- |"]
for label, key, target in rows:
    ms, size = figures[key]
    lines.append(f"| {label} | {ms:.1f} ms | < {target} ms | {met(ms < target)} | {size / 1024:.0f} KB | {met(size < 200 * 1024)} |")
lines.append("")
text = open(results).read()
start = text.find("## The web view")
if start >= 0:
    end = text.find("\n## ", start + 1)
    text = text[:start] + text[end + 1:] if end >= 0 else text[:start]
open(results, "w").write(text.rstrip("\n") + "\n\n" + "\n".join(lines))
print("\n".join(lines))

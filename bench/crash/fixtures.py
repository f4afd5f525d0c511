"""What every case uses: a workspace run through the real binary, a kill at an instant, a webhook
receiver, and the invariants checked on the store."""
import collections, hashlib, http.server, json, os, signal, sqlite3, subprocess, threading, time

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

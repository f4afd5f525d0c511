"""Milliseconds from starting a server to its first good answer on /health, the median of some
starts, each on a fresh store; prints JSON. The command runs in a new empty folder each time; the
port is polled with a raw HTTP request every millisecond, so neither a shell nor curl's start-up
is counted.

    python bench/server_ready.py PORT STARTS -- COMMAND... ({dir} is the fresh folder)
"""
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

port, starts = int(sys.argv[1]), int(sys.argv[2])
command = sys.argv[sys.argv.index("--") + 1:]
request = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def ready_ms():
    folder = tempfile.mkdtemp(prefix="ready-")
    start = time.perf_counter()
    process = subprocess.Popen([part.replace("{dir}", folder) for part in command], cwd=folder,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the server exited with {process.returncode} before it was ready")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(request)
                    if b" 200 " in s.recv(64):
                        return (time.perf_counter() - start) * 1000
            except OSError:
                time.sleep(0.001)
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # MLflow's server is a tree of processes
        process.wait()


times = [ready_ms() for _ in range(starts)]
print(json.dumps({"ready_ms": round(statistics.median(times), 1), "ready_min_ms": round(min(times), 1)}))

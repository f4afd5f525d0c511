"""The benchmark workspaces' jobs.yaml: chains and a fan-out of `/bin/true` stages."""
import sys

kind = sys.argv[1]
out = ["version: 1", "jobs:"]
if kind in ("chain4", "chain200"):
    n = 4 if kind == "chain4" else 200
    out += ["  chain:", "    stages:"]
    for i in range(n):
        needs = f", needs: [s{i - 1}]" if i else ""
        out.append(f"      s{i}: {{ run: /bin/true{needs} }}")
elif kind == "fanout":
    out += ["  fanout:", "    stages:", "      start: { run: /bin/true }"]
    for i in range(100):
        out.append(f"      w{i}: {{ run: /bin/true, needs: [start] }}")
    out.append("      end: { run: /bin/true, needs: [" + ", ".join(f"w{i}" for i in range(100)) + "] }")
elif kind == "noop1":
    out += ["  chain:", "    stages:", "      only: { uses: noop }"]
else:
    out += ["  j:", "    stages:", "      a: { run: /bin/true }"]
print("\n".join(out))

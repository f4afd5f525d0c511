"""The job start-up peer: the same DAGs as bench/make_specs.py (a 4-stage chain, a 1 -> 100 -> 1
fan-out of /bin/true) as a Dagster job, run whole-process with the in-process executor (Dagster's
fastest), on an ephemeral instance. Usage: dagster_peer.py chain4|fanout"""
import subprocess
import sys

from dagster import In, Nothing, job, op


def stage(name):
    @op(name=name, ins={"after": In(Nothing)})
    def run_true():
        subprocess.run(["/bin/true"], check=True)
    return run_true


def chain4():
    ops = [stage(f"s{i}") for i in range(4)]

    @job(name="chain")
    def chain():
        previous = ops[0]()
        for o in ops[1:]:
            previous = o(after=previous)
    return chain


def fanout():
    start, end = stage("start"), stage("end")
    workers = [stage(f"w{i}") for i in range(100)]

    @job(name="fanout")
    def fan():
        first = start()
        end(after=[w(after=first) for w in workers])
    return fan


if __name__ == "__main__":
    result = {"chain4": chain4, "fanout": fanout}[sys.argv[1]]().execute_in_process()
    sys.exit(0 if result.success else 1)

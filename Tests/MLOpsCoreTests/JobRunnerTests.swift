import Foundation
import Testing
@testable import MLOpsCore

@Suite("The DAG runner, with real subprocesses in a temporary workspace")
struct JobRunnerTests {
    func outcomes(_ result: JobRunResult) -> [String: RunOutcome] {
        Dictionary(uniqueKeysWithValues: result.stages.map { ($0.name, $0.outcome) })
    }

    func stageRuns(_ ws: TestWorkspace, _ result: JobRunResult) throws -> [RunRecord] {
        try Tracker(store: try ws.store()).children(of: result.run.id)
    }

    func running(_ ws: TestWorkspace) throws -> Int {
        try ws.count("SELECT COUNT(*) FROM runs WHERE status = 'RUNNING'")
    }

    @Test func independentStagesReallyRunInParallel() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              j:
                max_parallel: 2
                stages:
                  a: { run: sleep 0.4 }
                  b: { run: sleep 0.4 }
                  c: { needs: [a, b], run: "true" }
            """)
        defer { ws.remove() }
        let result = try await ws.run("j")
        #expect(result.run.status == .finished)
        let runs = try stageRuns(ws, result)
        let a = try #require(runs.first { $0.stage == "a" }), b = try #require(runs.first { $0.stage == "b" })
        let c = try #require(runs.first { $0.stage == "c" })
        // Overlap: each started before the other ended; c waited for both.
        #expect(a.startTime! < b.endTime! && b.startTime! < a.endTime!)
        #expect(c.startTime! >= max(a.endTime!, b.endTime!))
    }

    @Test func maxParallelOneSerialises() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              j:
                max_parallel: 1
                stages:
                  a: { run: sleep 0.2 }
                  b: { run: sleep 0.2 }
            """)
        defer { ws.remove() }
        let runs = try stageRuns(ws, try await ws.run("j")).sorted { $0.startTime! < $1.startTime! }
        #expect(runs[1].startTime! >= runs[0].endTime!)
    }

    @Test func failureSkipsDependentsWhileIndependentBranchesFinish() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              j:
                stages:
                  train: { run: sh -c 'echo boom >&2; exit 3' }
                  deploy: { needs: [train], run: "true" }
                  score: { needs: [deploy], run: "true" }
                  report: { run: sleep 0.2 }
                  notify: { needs: [score], trigger_rule: one_failed, run: "true" }
                  cleanup: { needs: [train, report], trigger_rule: all_done, run: "true" }
            """)
        defer { ws.remove() }
        let result = try await ws.run("j")
        #expect(result.run.status == .failed)
        #expect(result.run.message == "train: exit code 3")
        #expect(outcomes(result) == ["train": .failed, "deploy": .skipped, "score": .skipped, "report": .succeeded,
                                     "notify": .skipped, "cleanup": .succeeded])
        let deploy = try #require(try stageRuns(ws, result).first { $0.stage == "deploy" })
        #expect(deploy.status == .killed && deploy.message == "upstream train failed")
        let train = try #require(try stageRuns(ws, result).first { $0.stage == "train" })
        #expect(train.exitCode == 3)
        #expect(try String(contentsOfFile: (train.artifactURI! as NSString).deletingLastPathComponent + "/stderr.log", encoding: .utf8) == "boom\n")
        #expect(try running(ws) == 0)
    }

    @Test func oneFailedRunsANotifierOnFailure() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              j:
                stages:
                  a: { uses: fail }
                  b: { needs: [a], run: "true" }
                  notify: { needs: [b], trigger_rule: one_failed, run: "true" }
                  direct: { needs: [a], trigger_rule: one_failed, run: "true" }
            """)
        defer { ws.remove() }
        let result = try await ws.run("j")
        // b was skipped, not failed: a notifier hanging off b does not fire; one hanging off a does.
        #expect(outcomes(result) == ["a": .failed, "b": .skipped, "notify": .skipped, "direct": .succeeded])
        #expect(result.run.status == .failed)
    }

    /// The repository's weekly job in miniature: a failed gate still lets scoring run (`none_failed`),
    /// so only a rule over every stage upstream sees it.
    @Test(arguments: [
        ("gate", "train: { run: 'true' }", "gate: { needs: [train], run: sh -c 'exit 1' }", "gate"),
        ("training", "train: { run: sh -c 'exit 2' }", "gate: { needs: [train], run: 'true' }", "train"),
        ("timeout", "train: { run: sleep 5, timeout: 100ms, kill_grace: 100ms }", "gate: { needs: [train], run: 'true' }", "train"),
    ])
    func anyFailedReportsAFailureAnywhereUpstream(_ label: String, _ train: String, _ gate: String, _ failing: String) async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              j:
                stages:
                  \(train)
                  \(gate)
                  score: { needs: [gate], trigger_rule: none_failed, run: "true" }
                  direct: { needs: [score], trigger_rule: one_failed, run: "true" }
                  notify: { needs: [score], trigger_rule: any_failed, run: "true" }
            """)
        defer { ws.remove() }
        let result = try await ws.run("j")
        let got = outcomes(result)
        #expect(result.run.status == .failed, "\(label)")
        #expect(got[failing] == .failed || got[failing] == .timedOut, "\(label): \(got)")
        #expect(got["notify"] == .succeeded, "\(label): \(got)")
        #expect(got["direct"] == .skipped, "\(label): one_failed sees only score")
    }

    @Test func anyFailedStaysQuietWhenNothingFailed() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              j:
                stages:
                  a: { run: "true" }
                  b: { needs: [a], run: "true" }
                  notify: { needs: [b], trigger_rule: any_failed, run: "true" }
            """)
        defer { ws.remove() }
        let result = try await ws.run("j")
        #expect(result.run.status == .finished)
        #expect(outcomes(result)["notify"] == .skipped)
        let notify = try #require(try stageRuns(ws, result).first { $0.stage == "notify" })
        #expect(notify.message == "trigger rule any_failed: no stage upstream failed")
    }

    @Test func retriesWithBackoffRecordEachAttempt() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        try ws.write("jobs.yaml", """
            version: 1
            jobs:
              j:
                stages:
                  flaky:
                    shell: true
                    run: 'n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; [ $n -ge 3 ]'
                    retries: 3
                    retry_delay: 50ms
            """)
        let result = try await ws.run("j")
        #expect(result.run.status == .finished)
        let attempts = try stageRuns(ws, result).sorted { $0.attempt! < $1.attempt! }
        #expect(attempts.map(\.attempt) == [1, 2, 3])
        #expect(attempts.map(\.outcome) == [.failed, .failed, .succeeded])
        // Exponential backoff: 50 ms, then 100 ms between attempts.
        #expect(attempts[1].startTime! - attempts[0].endTime! >= 50)
        #expect(attempts[2].startTime! - attempts[1].endTime! >= 100)
        #expect(result.stages.first?.attempts == 3)
    }

    @Test func retriesRunOut() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              j:
                stages:
                  a: { run: "false", retries: 1, retry_delay: 10ms }
            """)
        defer { ws.remove() }
        let result = try await ws.run("j")
        #expect(result.run.status == .failed)
        #expect(try stageRuns(ws, result).map(\.outcome) == [.failed, .failed])
    }

    @Test func timeoutKillsTheWholeProcessGroupGrandchildrenToo() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        try ws.write("jobs.yaml", """
            version: 1
            jobs:
              j:
                stages:
                  hang:
                    shell: true
                    run: 'sleep 30 & echo $! > grandchild.pid; trap "" TERM; sleep 30'
                    timeout: 500ms
                    kill_grace: 300ms
            """)
        let result = try await ws.run("j")
        #expect(outcomes(result) == ["hang": .timedOut])
        #expect(result.stages.first?.message == "timed out after 500ms")
        let pid = try #require(Int32(try String(contentsOfFile: ws.path("grandchild.pid"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(!isAlive(pid))
        #expect(try running(ws) == 0)
    }

    @Test func leftoverBackgroundProcessesAreStoppedWhenTheStageEnds() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        try ws.write("jobs.yaml", """
            version: 1
            jobs:
              j:
                stages:
                  a: { shell: true, run: 'sleep 30 >/dev/null 2>&1 & echo $! > bg.pid' }
            """)
        let result = try await ws.run("j")
        #expect(result.run.status == .finished)
        let pid = try #require(Int32(try String(contentsOfFile: ws.path("bg.pid"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(!isAlive(pid))
    }

    @Test func cancellingTheRunStopsStagesAndMarksThemKilled() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              j:
                stages:
                  long: { run: sleep 30, kill_grace: 1s }
                  after: { needs: [long], run: "true" }
                  builtin: { uses: sleep, with: { duration: 30s } }
            """)
        defer { ws.remove() }
        let started = AsyncStream<Void>.makeStream()
        let task = Task {
            try await ws.run("j", events: { event in
                if case .stageStarted(stage: "long", _, _) = event { started.continuation.yield() }
            })
        }
        for await _ in started.stream { break }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        let result = try await task.value
        #expect(result.run.status == .killed)
        #expect(outcomes(result) == ["long": .killed, "after": .skipped, "builtin": .killed])
        #expect(try running(ws) == 0)
        let long = try #require(try stageRuns(ws, result).first { $0.stage == "long" })
        #expect(!isAlive(Int32(long.pid!)))
    }

    @Test func stageEnvironmentNamesItsRunAndFolders() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              j:
                params: { k: 5 }
                stages:
                  up: { run: "true" }
                  a:
                    needs: [up]
                    run: sh -c 'env > "$MLOPS_ARTIFACTS/env.txt"'
                    with: { top_k: "${params.k}" }
                    env: { GREETING: "k is ${params.k}" }
            """)
        defer { ws.remove() }
        let result = try await ws.run("j")
        let runs = try stageRuns(ws, result)
        let a = try #require(runs.first { $0.stage == "a" })
        let up = try #require(runs.first { $0.stage == "up" })
        let text = try String(contentsOfFile: a.artifactURI! + "/env.txt", encoding: .utf8)
        var env: [String: String] = [:]
        for line in text.split(separator: "\n") {
            if let eq = line.firstIndex(of: "=") { env[String(line[..<eq])] = String(line[line.index(after: eq)...]) }
        }
        #expect(env["MLOPS_RUN_ID"] == a.id)
        #expect(env["MLFLOW_RUN_ID"] == a.id)
        #expect(env["MLOPS_PARENT_RUN_ID"] == result.run.id)
        #expect(env["MLOPS_JOB"] == "j")
        #expect(env["MLOPS_STAGE"] == "a")
        #expect(env["MLOPS_ARTIFACTS"] == a.artifactURI)
        #expect(env["MLOPS_WORKSPACE"] == ws.workspace.root)
        #expect(env["MLOPS_TRACKING"] == ws.workspace.storePath)
        #expect(env["MLFLOW_EXPERIMENT_ID"] == String(a.experimentID))
        #expect(env["MLOPS_INPUT_UP"] == up.artifactURI)
        #expect(env["MLOPS_WITH_TOP_K"] == "5")
        #expect(env["GREETING"] == "k is 5")
        #expect(env["PATH"]?.hasPrefix(CommandStage.executableFolder! + ":") == true)
        #expect(try Tracker(store: ws.store()).params(of: a.id) == ["top_k": "5"])
    }

    @Test func metricsAndParamsFilesAreRecordedAndRolledUp() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        try ws.write("jobs.yaml", """
            version: 1
            jobs:
              j:
                stages:
                  train:
                    shell: true
                    run: |
                      echo '{"auc": 0.81, "loss": [0.9, 0.5, 0.4]}' > "$MLOPS_ARTIFACTS/metrics.json"
                      echo '{"epochs": 3, "solver": "lbfgs", "warm": true}' > "$MLOPS_ARTIFACTS/params.json"
                  bad:
                    shell: true
                    run: |
                      echo '{"auc": "high"}' > "$MLOPS_ARTIFACTS/metrics.json"
            """)
        let result = try await ws.run("j")
        let tracker = Tracker(store: try ws.store())
        let train = try #require(try stageRuns(ws, result).first { $0.stage == "train" })
        #expect(try tracker.params(of: train.id) == ["epochs": "3", "solver": "lbfgs", "warm": "true"])
        #expect(try tracker.metricHistory(of: train.id, key: "loss").map(\.step) == [0, 1, 2])
        #expect(try tracker.latestMetrics(of: result.run.id).map(\.key) == ["auc", "loss"])
        // A malformed report fails the stage with the reason, rather than being dropped.
        #expect(outcomes(result)["bad"] == .failed)
        #expect(result.stages.first { $0.name == "bad" }?.message?.contains("metric 'auc' must be a number") == true)
    }

    @Test func rerunOnlyFailedReusesWhatSucceeded() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        try ws.write("jobs.yaml", """
            version: 1
            jobs:
              j:
                params: { n: 1 }
                stages:
                  prepare: { shell: true, run: 'echo data > "$MLOPS_ARTIFACTS/data.txt"; echo x >> prepare.count' }
                  train: { needs: [prepare], shell: true, run: 'test -f fixed && cat "$MLOPS_INPUT_PREPARE/data.txt"' }
                  score: { needs: [train], run: "true" }
            """)
        let first = try await ws.run("j", RunRequest(job: "j", params: ["n": .int(7)]))
        #expect(outcomes(first) == ["prepare": .succeeded, "train": .failed, "score": .skipped])
        try ws.write("fixed", "")
        let second = try await ws.run("j", RunRequest(job: "j", rerunOf: String(first.run.id.prefix(8)), onlyFailed: true))
        #expect(outcomes(second) == ["prepare": .reused, "train": .succeeded, "score": .succeeded])
        #expect(try String(contentsOfFile: ws.path("prepare.count"), encoding: .utf8) == "x\n")
        let tracker = Tracker(store: try ws.store())
        #expect(try tracker.params(of: second.run.id)["n"] == "7")
        #expect(try tracker.tags(of: second.run.id)["mlops.rerun_of"] == first.run.id)
        await #expect(throws: RunRequestError.self) {
            _ = try await ws.run("j", RunRequest(job: "j", rerunOf: "ffffffff"))
        }
    }

    @Test func unknownJobAndParamAreRefusedBeforeAnythingIsRecorded() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              weekly: { params: { top_k: 1 }, stages: { a: { run: "true" } } }
            """)
        defer { ws.remove() }
        await #expect(throws: RunRequestError.self) { _ = try await ws.run("weekyl") }
        await #expect(throws: RunRequestError.self) { _ = try await ws.run("weekly", RunRequest(job: "weekly", params: ["topk": .int(3)])) }
        #expect(try ws.count("SELECT COUNT(*) FROM runs") == 0)
    }

    @Test func builtinTimeoutAndCommandNotFound() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              j:
                stages:
                  nap: { uses: sleep, with: { duration: 10s }, timeout: 100ms }
                  missing: { run: no-such-command-here --flag }
            """)
        defer { ws.remove() }
        let result = try await ws.run("j")
        #expect(outcomes(result) == ["nap": .timedOut, "missing": .failed])
        #expect(result.stages.first { $0.name == "missing" }?.message?.contains("command not found: 'no-such-command-here'") == true)
    }
}

@Suite("concurrency: forbid, and runs orphaned by a dead runner")
struct LeaseTests {
    func deadProcess() throws -> ProcessIdentity {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        let identity = ProcessIdentity.of(pid: process.processIdentifier)
        process.waitUntilExit()
        return identity
    }

    @Test func aLiveHolderRefusesASecondRun() throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let store = try ws.store()
        try JobLease.acquire(store, job: "j", runID: "a")
        #expect(throws: JobLease.Held.self) { try JobLease.acquire(store, job: "j", runID: "b") }
        do { try JobLease.acquire(store, job: "j", runID: "b") } catch let held as JobLease.Held {
            #expect(held.description.contains("job 'j' is already running"))
            #expect(held.description.contains("concurrency: allow"))
        }
        try JobLease.release(store, job: "j", runID: "a")
        try JobLease.acquire(store, job: "j", runID: "b")
    }

    @Test func aDeadHolderIsTakenOverAndItsRunsMarkedOrphaned() throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let store = try ws.store()
        let tracker = Tracker(store: store)
        let dead = try deadProcess()
        var parent = RunRecord(experimentID: try tracker.experimentID(named: "j"), name: "j", status: .running, startTime: 1, kind: .job)
        parent.job = "j"
        parent.pid = Int(dead.pid)
        parent.pidStartTime = dead.startTime
        parent.bootID = dead.bootID
        parent.host = dead.host
        try tracker.create(parent)
        var child = RunRecord(experimentID: parent.experimentID, name: "train", status: .running, startTime: 1, kind: .stage)
        child.parentRunID = parent.id
        try tracker.create(child)
        try JobLease.acquire(store, job: "j", runID: parent.id, identity: dead)

        let replaced = try JobLease.acquire(store, job: "j", runID: "new")
        #expect(replaced?.runID == parent.id)
        #expect(try tracker.run(parent.id)?.status == .failed)
        #expect(try tracker.run(parent.id)?.outcome == .orphaned)
        #expect(try tracker.run(child.id)?.outcome == .orphaned)
        #expect(try tracker.run(child.id)?.message?.contains("lease taken over") == true)
    }

    @Test func theReaperClosesRunsOfADeadRunner() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let store = try ws.store()
        let tracker = Tracker(store: store)
        let dead = try deadProcess()
        let live = ProcessIdentity.current()
        var ids: [String] = []
        for identity in [dead, live] {
            var run = RunRecord(experimentID: try tracker.experimentID(named: "j"), name: "j", status: .running, startTime: 1, kind: .job)
            run.pid = Int(identity.pid)
            run.pidStartTime = identity.startTime
            run.bootID = identity.bootID
            run.host = identity.host
            try tracker.create(run)
            ids.append(run.id)
        }
        #expect(try await OrphanReaper(store: store).reap().closed == [ids[0]])
        #expect(try tracker.run(ids[0])?.status == .failed)
        #expect(try tracker.run(ids[1])?.status == .running)
    }

    @Test func aReusedPidWithAnotherStartTimeIsNotTheHolder() throws {
        var identity = ProcessIdentity.current()
        #expect(identity.isAlive() == true)
        identity.startTime = (identity.startTime ?? 0) + 12345
        #expect(identity.isAlive() == false)
        identity = ProcessIdentity.current()
        identity.bootID = "another-boot"
        #expect(identity.isAlive() == false)
        identity = ProcessIdentity.current()
        identity.host = "elsewhere"
        #expect(identity.isAlive() == nil)
    }
}

import Foundation
import Synchronization
import Testing
@testable import MLOpsCore

/// The executor seam: the runner records each attempt's handle, and crash recovery asks the
/// attempt's own executor what became of it, follows it or stops it, whichever executor that is.
@Suite("Stage executors and orphan recovery")
struct ExecutorTests {
    /// An executor on "another machine": each attempt is an id with a state the test sets.
    final class RemoteStandIn: StageExecutor, @unchecked Sendable {
        let name = "remote"
        let states = Mutex<[String: AttemptProbe]>([:])
        let stopped = Mutex<[String]>([])
        /// What a reattach ends with; it waits until the state is no longer alive.
        func run(_ command: StageCommand, started: @Sendable (AttemptHandle) -> Void) async -> StageTermination {
            states.withLock { $0[command.runID] = .alive }
            started(.remote(executor: name, id: command.runID))
            return .succeeded
        }
        func probe(_ handle: AttemptHandle) async -> AttemptProbe {
            guard case let .remote(_, id) = handle else { return .unknown }
            return states.withLock { $0[id] ?? .lost("no such attempt") }
        }
        func reattach(_ handle: AttemptHandle, _ command: StageCommand, updated: @Sendable (AttemptHandle) -> Void) async -> StageTermination? {
            while true {
                if case let .ended(termination) = await probe(handle) { return termination }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        func stop(_ handle: AttemptHandle) async {
            guard case let .remote(_, id) = handle else { return }
            stopped.withLock { $0.append(id) }
            states.withLock { $0[id] = .ended(.killed("stopped")) }
        }
        func set(_ id: String, _ state: AttemptProbe) { states.withLock { $0[id] = state } }
    }

    /// A job run whose runner is a pid that is not alive, with one attempt started on `remote`.
    func orphan(_ ws: TestWorkspace, _ remote: RemoteStandIn) async throws -> (store: Store, job: RunRecord, attempt: RunRecord) {
        let store = try ws.store()
        let tracker = Tracker(store: store)
        var job = RunRecord(experimentID: try tracker.experimentID(named: "j"), name: "j", status: .running, startTime: 1, kind: .job)
        job.job = "j"
        job.pid = 999_999
        job.pidStartTime = 1
        job.bootID = ProcessIdentity.currentBootID
        job.host = ProcessIdentity.currentHost
        try tracker.create(job)
        var attempt = RunRecord(experimentID: job.experimentID, name: "s", status: .running, startTime: 1, kind: .stage)
        attempt.parentRunID = job.id
        attempt.job = "j"
        attempt.stage = "s"
        (attempt.pid, attempt.pidStartTime, attempt.bootID, attempt.host) = (job.pid, job.pidStartTime, job.bootID, job.host)
        try tracker.create(attempt)
        let command = StageCommand(executable: "/bin/true", arguments: ["true"], environment: [:], variables: [:], workingDirectory: ws.root,
                                   stdoutLog: ws.path("out"), stderrLog: ws.path("err"), timeout: nil, killGrace: .seconds(1), echo: nil,
                                   runID: attempt.id, submissionID: attempt.id)
        let attemptID = attempt.id
        _ = await remote.run(command) { try? tracker.recordAttempt(attemptID, $0) }
        #expect(try tracker.run(attempt.id)?.attemptHandle == .remote(executor: "remote", id: attempt.id))
        return (store, job, attempt)
    }

    @Test func aRemoteAttemptThatStillRunsKeepsItsJobRunRunningUntilItEnds() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let remote = RemoteStandIn()
        let (store, job, attempt) = try await orphan(ws, remote)
        let tracker = Tracker(store: store)
        let reaper = OrphanReaper(store: store, executors: ExecutorCatalog([LocalProcessExecutor(), remote]))
        // Looking only (`mlops runs`): the job still runs on the cluster, so its run stays RUNNING.
        #expect(try await reaper.reap().closed.isEmpty)
        #expect(try tracker.run(job.id)?.status == .running)
        #expect(remote.stopped.withLock { $0 }.isEmpty)
        // It ends: the next pass records its own end, then closes the job run as orphaned.
        remote.set(attempt.id, .ended(.failed("exit code 3", exitCode: 3)))
        #expect(try await reaper.reap().closed == [job.id])
        let ended = try #require(try tracker.run(attempt.id))
        #expect(ended.outcome == .failed)
        #expect(ended.exitCode == 3)
        #expect(ended.message?.hasPrefix("exit code 3") == true)
        #expect(try tracker.run(job.id)?.outcome == .orphaned)
        #expect(try await reaper.reap().closed.isEmpty)
    }

    @Test func aRemoteAttemptItsExecutorNoLongerKnowsIsRecordedLost() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let remote = RemoteStandIn()
        let (store, job, attempt) = try await orphan(ws, remote)
        remote.set(attempt.id, .lost("lost: the head restarted"))
        #expect(try await OrphanReaper(store: store, executors: ExecutorCatalog([remote])).reap().closed == [job.id])
        let lost = try #require(try Tracker(store: store).run(attempt.id))
        #expect(lost.status == .failed)
        #expect(lost.message == "lost: the head restarted")
    }

    @Test func aReattachingRunnerFollowsTheAttemptToItsEndAndOnlyOneDoes() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let remote = RemoteStandIn()
        let (store, job, attempt) = try await orphan(ws, remote)
        let spec = try SpecParser.parse(text: "version: 1\njobs:\n  j:\n    stages:\n      s: { run: \"true\" }\n", file: ws.path("jobs.yaml"))
        let events = Mutex<[String]>([])
        let reattach = OrphanReaper.Reattach(workspace: ws.workspace, spec: spec, jobs: ["j"], report: { (event: RunEvent) in
            if case let .stageReattached(stage, _, _) = event { events.withLock { $0.append(stage) } }
        })
        let catalog = ExecutorCatalog([remote])
        let first = Task { try await OrphanReaper(store: store, executors: catalog, reattach: reattach).reap() }
        // While the first follows it, a second reaper sees a live follower and leaves it alone.
        while try Tracker(store: store).run(attempt.id)?.pid == 999_999 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(try await OrphanReaper(store: store, executors: catalog, reattach: reattach).reap().resumable.isEmpty)
        remote.set(attempt.id, .ended(.succeeded))
        let result = try await first.value
        #expect(result.resumable.map { $0.runID } == [job.id])
        #expect(events.withLock { $0 } == ["s"])
        #expect(try Tracker(store: store).run(attempt.id)?.outcome == .succeeded)
        #expect(try Tracker(store: store).run(job.id)?.outcome == .orphaned)
    }

    @Test func theLocalExecutorTellsALiveProcessFromAReusedPid() async throws {
        let local = LocalProcessExecutor()
        #expect(await local.probe(.process(.current())) == .alive)
        var reused = ProcessIdentity.current()
        reused.startTime = (reused.startTime ?? 0) + 1
        if case .lost = await local.probe(.process(reused)) {} else { Issue.record("a reused pid is not the attempt") }
        #expect(await local.probe(.remote(executor: "ray", id: "x")) == .unknown)
    }
}

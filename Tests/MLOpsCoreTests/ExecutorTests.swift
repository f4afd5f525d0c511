import Foundation
import Synchronization
import Testing
@testable import MLOpsCore

/// The executor seam: the runner records each attempt's handle, and orphan recovery asks the
/// attempt's own executor whether it lives and to stop it, whichever executor that is.
@Suite("Stage executors and orphan recovery")
struct ExecutorTests {
    /// An executor on "another machine": attempts are ids in a set; stopping removes them.
    final class RemoteStandIn: StageExecutor, @unchecked Sendable {
        let name = "remote"
        let live = Mutex<Set<String>>([])
        func run(_ command: StageCommand, started: @Sendable (AttemptHandle) -> Void) async -> StageTermination {
            live.withLock { _ = $0.insert(command.runID) }
            started(.remote(executor: name, id: command.runID))
            return .succeeded
        }
        func isAlive(_ handle: AttemptHandle) -> Bool? {
            guard case let .remote(_, id) = handle else { return nil }
            return live.withLock { $0.contains(id) }
        }
        func stop(_ handle: AttemptHandle) {
            guard case let .remote(_, id) = handle else { return }
            live.withLock { _ = $0.remove(id) }
        }
    }

    @Test func theReaperStopsAnOrphanedAttemptThroughItsOwnExecutor() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let store = try ws.store()
        let tracker = Tracker(store: store)
        let remote = RemoteStandIn()
        // A job run whose runner is a pid that is not alive, with one attempt running remotely.
        var job = RunRecord(experimentID: try tracker.experimentID(named: "j"), name: "j", status: .running, startTime: 1, kind: .job)
        job.job = "j"
        job.pid = 999_999
        job.pidStartTime = 1
        job.bootID = ProcessIdentity.currentBootID
        job.host = ProcessIdentity.currentHost
        try tracker.create(job)
        var attempt = RunRecord(experimentID: job.experimentID, name: "s", status: .running, startTime: 1, kind: .stage)
        attempt.parentRunID = job.id
        try tracker.create(attempt)
        let command = StageCommand(executable: "/bin/true", arguments: ["true"], environment: [:], workingDirectory: ws.root,
                                   stdoutLog: ws.path("out"), stderrLog: ws.path("err"), timeout: nil, killGrace: .seconds(1), echo: nil, runID: attempt.id)
        let attemptID = attempt.id
        _ = await remote.run(command) { try? tracker.recordAttempt(attemptID, $0) }
        #expect(try tracker.run(attempt.id)?.attemptHandle == .remote(executor: "remote", id: attempt.id))
        #expect(remote.isAlive(.remote(executor: "remote", id: attempt.id)) == true)

        let closed = try OrphanReaper.reap(store, executors: ExecutorCatalog([LocalProcessExecutor(), remote]))
        #expect(closed == [job.id])
        #expect(remote.isAlive(.remote(executor: "remote", id: attempt.id)) == false)
        #expect(try tracker.run(attempt.id)?.outcome == .orphaned)
        #expect(try tracker.run(job.id)?.status == .failed)
        // Nothing RUNNING is left, so a second pass closes nothing.
        #expect(try OrphanReaper.reap(store, executors: ExecutorCatalog([remote])).isEmpty)
    }

    @Test func theLocalExecutorTellsALiveProcessFromAReusedPid() throws {
        let local = LocalProcessExecutor()
        #expect(local.isAlive(.process(.current())) == true)
        var reused = ProcessIdentity.current()
        reused.startTime = (reused.startTime ?? 0) + 1
        #expect(local.isAlive(.process(reused)) == false)
        #expect(local.isAlive(.remote(executor: "ray", id: "x")) == nil)
    }
}

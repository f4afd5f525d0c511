import Foundation

/// Finds runs left RUNNING by a runner that died (killed, rebooted) and closes them, so that no run
/// stays RUNNING for ever; an attempt that outlived its runner is stopped by its executor. Cheap when
/// nothing is running: one indexed query.
public enum OrphanReaper {
    /// Closes every RUNNING job run whose runner is gone; returns the ids it closed.
    @discardableResult
    public static func reap(_ store: Store, executors: ExecutorCatalog = .standard, now: Int64? = nil) throws -> [String] {
        let now = now ?? store.nowMillis()
        var closed: [String] = []
        for run in try store.read({ try OrphanRecords.runningJobRuns($0) }) {
            guard let pid = run.pid else { continue }
            let identity = ProcessIdentity(pid: Int32(pid), startTime: run.pidStartTime, bootID: run.bootID, host: run.host ?? "")
            let alive = identity.isAlive() ?? (now - (run.heartbeatTime ?? run.startTime ?? 0) < JobLease.staleAfterMillis)
            if alive { continue }
            let attempts = try store.write { tx in
                try OrphanRecords.closeIfRunning(tx, jobRunID: run.id, reason: "orphaned: its runner (pid \(pid)) is gone", now: now)
            }
            guard let attempts else { continue }
            stop(attempts, executors: executors)
            closed.append(run.id)
        }
        return closed
    }

    /// Stops, through their executors, the attempts of `jobRunID` that were closed as orphans
    /// (a runner that took over a lease calls this for the run it replaced).
    public static func stopOrphanedAttempts(_ store: Store, of jobRunID: String, executors: ExecutorCatalog = .standard) throws {
        stop(try Tracker(store: store).children(of: jobRunID).filter { $0.outcome == .orphaned }, executors: executors)
    }

    static func stop(_ attempts: [RunRecord], executors: ExecutorCatalog) {
        for handle in attempts.compactMap(\.attemptHandle) {
            guard let executor = executors.owner(of: handle), executor.isAlive(handle) == true else { continue }
            executor.stop(handle)
        }
    }
}

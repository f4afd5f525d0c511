import Foundation

/// The records side of orphan recovery: job runs left RUNNING by a runner that died, and their
/// stage attempts, closed as orphaned (FAILED) in one transaction with their audit rows. Stopping
/// an attempt that outlived its runner is its executor's business, in the layer above.
public enum OrphanRecords {
    /// Every RUNNING job run; cheap when nothing runs (one indexed query).
    public static func runningJobRuns(_ tx: StoreTransaction) throws -> [RunRecord] {
        try RunRecord.fetchAll(tx.db, sql: "SELECT * FROM runs WHERE status = 'RUNNING' AND kind = 'job'")
    }

    /// Closes a job run whose runner is gone, if it is still RUNNING (its runner may have finished
    /// meanwhile), with its attempts, and frees its lease. Returns the attempts it closed, nil when
    /// the run was no longer RUNNING. The run's row is read under a row lock on PostgreSQL, so of
    /// two reapers that find the same orphan one closes it and the other finds it closed.
    public static func closeIfRunning(_ tx: StoreTransaction, jobRunID: String, reason: String, now: Int64) throws -> [RunRecord]? {
        let status = try String.fetchOne(tx.db, sql: "SELECT status FROM runs WHERE run_uuid = ?\(tx.lockingRead)", arguments: [jobRunID])
        guard status == RunStatus.running.rawValue else { return nil }
        let closed = try closeOrphans(tx, jobRunID: jobRunID, reason: reason, now: now)
        try tx.db.execute(sql: "DELETE FROM leases WHERE run_uuid = ?", arguments: [jobRunID])
        return closed
    }

    /// Marks a job run and its RUNNING stage attempts orphaned (FAILED); returns the attempts, as
    /// they were, so their executors can stop what still runs.
    @discardableResult
    public static func closeOrphans(_ tx: StoreTransaction, jobRunID: String, reason: String, now: Int64? = nil) throws -> [RunRecord] {
        let now = now ?? tx.nowMillis()
        let children = try RunRecord.fetchAll(tx.db, sql: "SELECT * FROM runs WHERE parent_run_id = ? AND status = 'RUNNING'", arguments: [jobRunID])
        let orphan = { (run: inout RunRecord) in
            run.status = .failed
            run.outcome = .orphaned
            run.endTime = now
            run.message = reason
        }
        for child in children { try Tracker.update(tx, child.id, action: "orphan", orphan) }
        if try Tracker.run(tx, jobRunID)?.status == .running { try Tracker.update(tx, jobRunID, action: "orphan", orphan) }
        return children
    }
}

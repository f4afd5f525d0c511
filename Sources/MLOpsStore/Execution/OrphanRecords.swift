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

    /// A job run's attempts still RUNNING.
    public static func runningAttempts(_ tx: StoreTransaction, jobRunID: String) throws -> [RunRecord] {
        try RunRecord.fetchAll(tx.db, sql: "SELECT * FROM runs WHERE parent_run_id = ? AND status = 'RUNNING'", arguments: [jobRunID])
    }

    /// Makes `follower` the process that follows a remote attempt whose runner is gone, if the
    /// attempt is still RUNNING and still names `previous` (its dead runner, or a dead follower):
    /// of two processes that reattach at once, one follows it and the other is told no.
    public static func claimAttempt(_ tx: StoreTransaction, attemptID: String, previous: ProcessIdentity, follower: ProcessIdentity) throws -> Bool {
        guard let row = try Row.fetchOne(tx.db, sql: "SELECT status, pid, pid_start_time, host FROM runs WHERE run_uuid = ?\(tx.lockingRead)",
                                         arguments: [attemptID]) else { return false }
        let status: String? = row["status"]
        let pid: Int64? = row["pid"]
        let start: Int64? = row["pid_start_time"]
        let host: String? = row["host"]
        guard status == RunStatus.running.rawValue, pid == Int64(previous.pid), start == previous.startTime,
              (host ?? "") == previous.host else { return false }
        try tx.db.execute(sql: "UPDATE runs SET pid = ?, pid_start_time = ?, boot_id = ?, host = ? WHERE run_uuid = ?",
                          arguments: [follower.pid, follower.startTime, follower.bootID, follower.host, attemptID])
        try AuditLog.record(tx, entityType: "run", entityID: attemptID, action: "reattach", from: "pid \(previous.pid)",
                            to: "pid \(follower.pid) on \(follower.host)", detail: "its runner is gone; followed to its end")
        return true
    }

    /// Records the end of an attempt found after its runner died, if it is still RUNNING; a
    /// success rolls its metrics up into the job run, as a live runner's would.
    @discardableResult
    public static func finishAttemptIfRunning(_ tx: StoreTransaction, attemptID: String, outcome: RunOutcome, exitCode: Int?,
                                              message: String?, now: Int64) throws -> Bool {
        let status = try String.fetchOne(tx.db, sql: "SELECT status FROM runs WHERE run_uuid = ?\(tx.lockingRead)", arguments: [attemptID])
        guard status == RunStatus.running.rawValue else { return false }
        try Tracker.finish(tx, attemptID, outcome: outcome, endTime: now, exitCode: exitCode, message: message)
        if outcome == .succeeded, let parent = try Tracker.run(tx, attemptID)?.parentRunID {
            try Tracker.rollUp(tx, child: attemptID, into: parent)
        }
        return true
    }
}

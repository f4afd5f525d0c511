import Foundation

/// The guard behind `concurrency: forbid | queue | replace`: one row per running job, naming the process that holds
/// it. A lease whose holder is gone (dead pid, a different boot, or on another host a stale
/// heartbeat) is taken over, and the runs it left RUNNING are closed as orphaned.
public enum JobLease {
    /// How often a holder proves it is alive, and when another host may stop believing it.
    public static let heartbeatInterval: Duration = .seconds(10)
    public static let staleAfterMillis: Int64 = 60_000

    public struct Holder: Sendable, Hashable {
        public var job: String
        public var runID: String
        public var identity: ProcessIdentity
        public var acquiredTime: Int64
        public var heartbeatTime: Int64
    }

    /// Another live process holds the job.
    public struct Held: Error, Sendable, CustomStringConvertible {
        public var holder: Holder
        public var description: String {
            let since = Date(timeIntervalSince1970: Double(holder.acquiredTime) / 1000).formatted(date: .omitted, time: .standard)
            return "job '\(holder.job)' is already running (run \(holder.runID.prefix(8)), pid \(holder.identity.pid) on \(holder.identity.host), since \(since)); "
                + "it has `concurrency: forbid`, `queue` or `replace`: wait for it to end, stop it, or set `concurrency: allow`"
        }
    }

    /// Takes the job's lease for `runID`; returns the dead holder it replaced, if any.
    @discardableResult
    public static func acquire(_ store: Store, job: String, runID: String,
                               identity: ProcessIdentity = .current(), now: Int64? = nil) throws -> Holder? {
        try store.write { tx in try acquire(tx, job: job, runID: runID, identity: identity, now: now ?? tx.nowMillis()) }
    }

    /// The same, inside the caller's transaction (the runner starts a run and takes its lease at once).
    public static func acquire(_ tx: StoreTransaction, job: String, runID: String, identity: ProcessIdentity, now: Int64) throws -> Holder? {
        let db = tx.db
        var replaced: Holder?
        if let row = try Row.fetchOne(db, sql: "SELECT * FROM leases WHERE job = ?", arguments: [job]) {
            let holder = Holder(job: job, runID: row["run_uuid"],
                                identity: ProcessIdentity(pid: row["pid"], startTime: row["pid_start_time"],
                                                          bootID: row["boot_id"], host: row["host"] ?? ""),
                                acquiredTime: row["acquired_time"], heartbeatTime: row["heartbeat_time"])
            let alive = holder.identity.isAlive() ?? (now - holder.heartbeatTime < staleAfterMillis)
            if alive { throw Held(holder: holder) }
            try OrphanRecords.closeOrphans(tx, jobRunID: holder.runID,
                                           reason: "orphaned: its runner (pid \(holder.identity.pid)) died; lease taken over by run \(runID.prefix(8))")
            try db.execute(sql: "DELETE FROM leases WHERE job = ?", arguments: [job])
            try AuditLog.record(tx, entityType: "lease", entityID: job, action: "take_over", from: holder.runID, to: runID,
                                detail: "holder pid \(holder.identity.pid) is gone")
            replaced = holder
        }
        try db.execute(sql: """
            INSERT INTO leases (job, run_uuid, pid, pid_start_time, boot_id, host, acquired_time, heartbeat_time)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [job, runID, identity.pid, identity.startTime, identity.bootID, identity.host, now, now])
        try AuditLog.record(tx, entityType: "lease", entityID: job, action: "acquire", to: runID)
        return replaced
    }

    public static func heartbeat(_ store: Store, job: String, runID: String, now: Int64? = nil) throws {
        let now = now ?? store.nowMillis()
        try store.write { tx in
            let db = tx.db
            try db.execute(sql: "UPDATE leases SET heartbeat_time = ? WHERE job = ? AND run_uuid = ?", arguments: [now, job, runID])
            try db.execute(sql: "UPDATE runs SET heartbeat_time = ? WHERE run_uuid = ?", arguments: [now, runID])
        }
    }

    public static func release(_ store: Store, job: String, runID: String) throws {
        try store.write { tx in try release(tx, job: job, runID: runID) }
    }

    public static func release(_ tx: StoreTransaction, job: String, runID: String) throws {
        let db = tx.db
        try db.execute(sql: "DELETE FROM leases WHERE job = ? AND run_uuid = ?", arguments: [job, runID])
        if db.changesCount > 0 { try AuditLog.record(tx, entityType: "lease", entityID: job, action: "release", from: runID) }
    }
}

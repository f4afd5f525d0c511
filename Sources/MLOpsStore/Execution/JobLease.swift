import Foundation

/// The guard behind `concurrency: forbid | queue | replace`: one row per running job, naming the process that holds
/// it. A lease whose holder is gone (dead pid, a different boot, or on another host a stale
/// heartbeat) is taken over, and the runs it left RUNNING are closed as orphaned.
public enum JobLease {
    /// When another host may stop believing a holder it cannot check (its heartbeat is older):
    /// 60 s, or `MLOPS_HEARTBEAT_WINDOW` (milliseconds; the same on every host of one store).
    public static let staleAfterMillis: Int64 = ProcessInfo.processInfo.environment["MLOPS_HEARTBEAT_WINDOW"]
        .flatMap(Int64.init).map { max(1_000, $0) } ?? 60_000
    /// How often a holder proves it is alive: six times a window.
    public static var heartbeatInterval: Duration { .milliseconds(staleAfterMillis / 6) }
    /// A holder that has not renewed its heartbeat for this long stops its own stages (fencing):
    /// half the window, so they are stopped, with their grace, before another host takes over.
    public static var fenceAfter: Duration { .milliseconds(staleAfterMillis / 2) }

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
    ///
    /// Taking over a dead holder's lease is a compare-and-delete on that holder's own row (its run
    /// and its last heartbeat), and taking a free lease an insert that does nothing when a row is
    /// there: of two contenders, whatever the isolation, one holds the lease and the other is
    /// told who does.
    public static func acquire(_ tx: StoreTransaction, job: String, runID: String, identity: ProcessIdentity, now: Int64) throws -> Holder? {
        let db = tx.db
        var replaced: Holder?
        if let holder = try holder(tx, job: job) {
            let alive = holder.identity.isAlive() ?? (now - holder.heartbeatTime < staleAfterMillis)
            if alive { throw Held(holder: holder) }
            try db.execute(sql: "DELETE FROM leases WHERE job = ? AND run_uuid = ? AND heartbeat_time = ?",
                           arguments: [job, holder.runID, holder.heartbeatTime])
            guard db.changesCount == 1 else { throw Held(holder: try Self.holder(tx, job: job) ?? holder) }
            try OrphanRecords.closeOrphans(tx, jobRunID: holder.runID,
                                           reason: "orphaned: its runner (pid \(holder.identity.pid)) died; lease taken over by run \(runID.prefix(8))")
            try AuditLog.record(tx, entityType: "lease", entityID: job, action: "take_over", from: holder.runID, to: runID,
                                detail: "holder pid \(holder.identity.pid) is gone")
            replaced = holder
        }
        try db.execute(sql: """
            INSERT INTO leases (job, run_uuid, pid, pid_start_time, boot_id, host, acquired_time, heartbeat_time)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job) DO NOTHING
            """, arguments: [job, runID, identity.pid, identity.startTime, identity.bootID, identity.host, now, now])
        guard db.changesCount == 1 else {
            throw Held(holder: try holder(tx, job: job) ?? Holder(job: job, runID: "?", identity: identity, acquiredTime: now, heartbeatTime: now))
        }
        try AuditLog.record(tx, entityType: "lease", entityID: job, action: "acquire", to: runID)
        return replaced
    }

    /// Who holds the job's lease now, if anyone.
    public static func holder(_ tx: StoreTransaction, job: String) throws -> Holder? {
        try Row.fetchOne(tx.db, sql: "SELECT * FROM leases WHERE job = ?", arguments: [job]).map { row in
            Holder(job: job, runID: row["run_uuid"],
                   identity: ProcessIdentity(pid: row["pid"], startTime: row["pid_start_time"], bootID: row["boot_id"], host: row["host"] ?? ""),
                   acquiredTime: row["acquired_time"], heartbeatTime: row["heartbeat_time"])
        }
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

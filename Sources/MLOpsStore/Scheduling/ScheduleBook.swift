import Foundation

/// The schedule's record in the store: one row per fire, whose primary key (job, fire time) is the
/// claim. Two daemons on one store may both find a fire due; only the one whose insert lands
/// starts it. A queued fire is claimed again when it starts, by a conditional update.
public enum ScheduleBook {
    public enum Status: String, Sendable {
        case started, skipped, queued, missed
    }

    public struct Fire: Sendable, Hashable {
        public var job: String
        public var time: Int64
        public var status: Status
        public var runID: String?
        public var daemon: String
        public var detail: String?

        public init(job: String, time: Int64, status: Status, runID: String? = nil, daemon: String, detail: String? = nil) {
            self.job = job
            self.time = time
            self.status = status
            self.runID = runID
            self.daemon = daemon
            self.detail = detail
        }
    }

    /// The newest fire on record for `job`, whatever became of it.
    public static func lastFireTime(_ tx: StoreTransaction, job: String) throws -> Int64? {
        return try Int64.fetchOne(tx.db, sql: "SELECT MAX(fire_time) FROM schedule_fires WHERE job = ?", arguments: [job])
    }

    /// Records a fire; false when another daemon recorded it first.
    public static func claim(_ tx: StoreTransaction, _ fire: Fire, now: Int64) throws -> Bool {
        let db = tx.db
        try db.execute(sql: """
            INSERT INTO schedule_fires (job, fire_time, status, run_uuid, daemon, claimed_time, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job, fire_time) DO NOTHING
            """, arguments: [fire.job, fire.time, fire.status.rawValue, fire.runID, fire.daemon, now, fire.detail])
        return db.changesCount == 1
    }

    /// Takes a queued fire to start it as `runID`; false when another daemon took it.
    public static func startQueued(_ tx: StoreTransaction, job: String, time: Int64, runID: String, daemon: String) throws -> Bool {
        let db = tx.db
        try db.execute(sql: """
            UPDATE schedule_fires SET status = 'started', run_uuid = ?, daemon = ? WHERE job = ? AND fire_time = ? AND status = 'queued'
            """, arguments: [runID, daemon, job, time])
        return db.changesCount == 1
    }

    public static func queued(_ tx: StoreTransaction, job: String) throws -> [Int64] {
        return try Int64.fetchAll(tx.db, sql: "SELECT fire_time FROM schedule_fires WHERE job = ? AND status = 'queued' ORDER BY fire_time", arguments: [job])
    }

    /// How often a fire is resumed after its runner died before it is left failed.
    public static let maxResumes = 2

    /// The newest fire of each job whose run was orphaned (its runner died) and that may still be
    /// resumed. Whoever closed the orphan (this daemon, `mlops runs`, another runner) does not matter:
    /// the fire row says what is owed.
    public static func orphanedFires(_ tx: StoreTransaction) throws -> [(job: String, time: Int64, run: String, resumes: Int)] {
        let db = tx.db
        return try Row.fetchAll(db, sql: """
            SELECT f.job, f.fire_time, f.run_uuid, f.resumes FROM schedule_fires f JOIN runs r ON r.run_uuid = f.run_uuid
            WHERE f.status = 'started' AND r.status = 'FAILED' AND r.outcome = 'orphaned'
              AND f.resumes <= ? AND f.fire_time = (SELECT MAX(fire_time) FROM schedule_fires g WHERE g.job = f.job)
            """, arguments: [maxResumes]).map { (job: $0["job"], time: $0["fire_time"], run: $0["run_uuid"], resumes: $0["resumes"]) }
    }

    /// A started fire whose run was orphaned now runs on as `runID`; false when another daemon
    /// resumed it first or it was resumed `maxResumes` times already.
    public static func resumed(_ tx: StoreTransaction, orphan: String, as runID: String) throws -> Bool {
        let db = tx.db
        try db.execute(sql: """
            UPDATE schedule_fires SET run_uuid = ?, resumes = resumes + 1,
                detail = 'resumed after its run ' || substr(?, 1, 8) || ' was orphaned'
            WHERE run_uuid = ? AND status = 'started' AND resumes < ?
            """, arguments: [runID, orphan, orphan, maxResumes])
        return db.changesCount == 1
    }

    public static func recent(_ store: Store, job: String? = nil, limit: Int = 20) throws -> [Fire] {
        try store.read { tx in
            let db = tx.db
            return try Row.fetchAll(db, sql: """
                SELECT * FROM schedule_fires WHERE (CAST(? AS TEXT) IS NULL OR job = ?) ORDER BY fire_time DESC LIMIT ?
                """, arguments: [job, job, limit]).map {
                Fire(job: $0["job"], time: $0["fire_time"], status: Status(rawValue: $0["status"]) ?? .started,
                     runID: $0["run_uuid"], daemon: $0["daemon"], detail: $0["detail"])
            }
        }
    }

    /// Whether a live run of `job` is going (its lease is held, or a RUNNING job run exists).
    public static func isRunning(_ tx: StoreTransaction, job: String) throws -> String? {
        let db = tx.db
        return try String.fetchOne(db, sql: "SELECT run_uuid FROM runs WHERE kind = 'job' AND job = ? AND status = 'RUNNING' ORDER BY start_time DESC LIMIT 1",
                            arguments: [job])
    }

    /// A fire whose runner died too often is given up: counted once more, so it is not offered again.
    public static func abandon(_ tx: StoreTransaction, job: String, time: Int64, resumes: Int) throws {
        try tx.db.execute(sql: "UPDATE schedule_fires SET resumes = resumes + 1 WHERE job = ? AND fire_time = ? AND resumes = ?",
                          arguments: [job, time, resumes])
    }

    /// A fire whose run another process's lease refused: skipped, with why.
    public static func markSkipped(_ tx: StoreTransaction, runID: String, reason: String) throws {
        try tx.db.execute(sql: "UPDATE schedule_fires SET status = 'skipped', detail = ? WHERE run_uuid = ?", arguments: [reason, runID])
    }
}

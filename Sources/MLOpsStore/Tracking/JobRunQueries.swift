
/// What the scheduler and the retrain policy ask of a job's runs.
extension Tracker {
    /// Whether a run of `job` is RUNNING now.
    public static func isRunning(_ tx: StoreTransaction, job: String) throws -> Bool {
        try Bool.fetchOne(tx.db, sql: "SELECT 1 FROM runs WHERE kind = 'job' AND job = ? AND status = 'RUNNING'", arguments: [job]) == true
    }

    /// When the newest run of `job` started by `trigger` began.
    public static func lastStart(_ tx: StoreTransaction, job: String, trigger: RunTrigger) throws -> Int64? {
        try Int64.fetchOne(tx.db, sql: "SELECT MAX(start_time) FROM runs WHERE kind = 'job' AND job = ? AND trigger = ?", arguments: [job, trigger.rawValue])
    }

    /// How many runs of `job` started by `trigger` began at or after `since`.
    public static func starts(_ tx: StoreTransaction, job: String, trigger: RunTrigger, since: Int64) throws -> Int {
        try Int.fetchOne(tx.db, sql: "SELECT COUNT(*) FROM runs WHERE kind = 'job' AND job = ? AND trigger = ? AND start_time >= ?",
                         arguments: [job, trigger.rawValue, since]) ?? 0
    }

    /// How many job runs `trigger` started in (`from`, `to`], whatever their job.
    public static func jobStarts(_ tx: StoreTransaction, trigger: RunTrigger, after from: Int64, upTo to: Int64) throws -> Int {
        try Int.fetchOne(tx.db, sql: "SELECT COUNT(*) FROM runs WHERE kind = 'job' AND trigger = ? AND start_time > ? AND start_time <= ?",
                         arguments: [trigger.rawValue, from, to]) ?? 0
    }

    /// How many attempts of stages named `stage` failed among those started in (`from`, `to`].
    public static func stageFailures(_ tx: StoreTransaction, stage: String, after from: Int64, upTo to: Int64) throws -> Int {
        try Int.fetchOne(tx.db, sql: """
            SELECT COUNT(*) FROM runs WHERE kind = 'stage' AND outcome = 'failed' AND stage = ? AND start_time > ? AND start_time <= ?
            """, arguments: [stage, from, to]) ?? 0
    }

    /// Records a stage that reuses an earlier run's result: its run, tags and the earlier run's
    /// metrics rolled up into it and into the job's run, with its audit row.
    public static func recordReuse(_ tx: StoreTransaction, _ run: RunRecord, tags: [String: String], from old: String, parentID: String) throws {
        try run.insert(tx.db)
        try upsertTags(tx, runID: run.id, tags)
        try rollUp(tx, child: old, into: run.id)
        try rollUp(tx, child: old, into: parentID)
        try AuditLog.record(tx, entityType: "run", entityID: run.id, action: "reuse", to: RunStatus.finished.rawValue, detail: old)
    }
}

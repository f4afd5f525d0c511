
/// The owner of `monitor_state`: where each monitor's last evaluation, baseline, CUSUM and
/// triggers stand, so an evaluation continues where the last one left off.
public enum MonitorRecords {
    /// A monitor's row, as an evaluation reads it.
    public struct State: Sendable, Hashable {
        public var monitor: String
        public var modelVersion: Int?
        public var baseline: Double?
        public var baselineSource: String?
        public var anchoredTime: Int64?
        public var breaches: Int?
        public var cusum: Double?
        public var cusumOutcomeID: Int64?
        public var lastOutcomeTime: Int64?
        public var lastTriggerTime: Int64?
        public var lastTriggerRun: String?
        public var lastTriggerReason: String?
        public var lastDecision: String?
        public var lastEvaluationJSON: String?
        public var updatedTime: Int64

        package init(row: Row) {
            monitor = row["monitor"]
            modelVersion = row["model_version"]
            baseline = row["baseline"]
            baselineSource = row["baseline_source"]
            anchoredTime = row["anchored_time"]
            breaches = row["breaches"]
            cusum = row["cusum"]
            cusumOutcomeID = row["cusum_outcome_id"]
            lastOutcomeTime = row["last_outcome_time"]
            lastTriggerTime = row["last_trigger_time"]
            lastTriggerRun = row["last_trigger_run"]
            lastTriggerReason = row["last_trigger_reason"]
            lastDecision = row["last_decision"]
            lastEvaluationJSON = row["last_evaluation"]
            updatedTime = row["updated_time"]
        }
    }

    /// What an evaluation writes back.
    public struct Evaluated: Sendable, Hashable {
        public var monitor: String
        public var model: String
        public var version: Int?
        public var baseline: Double?
        public var baselineSource: String?
        public var anchoredTime: Int64?
        public var breaches: Int
        public var evaluationJSON: String
        public var lastTriggerTime: Int64?
        public var cusum: Double
        public var cursor: MatureOutcomes.Cursor?

        public init(monitor: String, model: String, version: Int?, baseline: Double?, baselineSource: String?, anchoredTime: Int64?,
                    breaches: Int, evaluationJSON: String, lastTriggerTime: Int64?, cusum: Double, cursor: MatureOutcomes.Cursor?) {
            self.monitor = monitor
            self.model = model
            self.version = version
            self.baseline = baseline
            self.baselineSource = baselineSource
            self.anchoredTime = anchoredTime
            self.breaches = breaches
            self.evaluationJSON = evaluationJSON
            self.lastTriggerTime = lastTriggerTime
            self.cusum = cusum
            self.cursor = cursor
        }
    }

    public static func state(_ tx: StoreTransaction, _ monitor: String) throws -> State? {
        try Row.fetchOne(tx.db, sql: "SELECT * FROM monitor_state WHERE monitor = ?", arguments: [monitor]).map(State.init)
    }

    public static func all(_ tx: StoreTransaction) throws -> [State] {
        try Row.fetchAll(tx.db, sql: "SELECT * FROM monitor_state ORDER BY monitor").map(State.init)
    }

    /// Writes an evaluation's outcome; the trigger columns are left as they are.
    public static func save(_ tx: StoreTransaction, _ e: Evaluated, now: Int64) throws {
        try tx.db.execute(sql: """
            INSERT INTO monitor_state (monitor, model_name, model_version, baseline, baseline_source, anchored_time, breaches, last_evaluation,
                                       last_trigger_time, updated_time, cusum, cusum_outcome_id, last_outcome_time,
                                       last_trigger_run, last_trigger_reason, last_decision)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)
            ON CONFLICT (monitor) DO UPDATE SET model_name = excluded.model_name, model_version = excluded.model_version,
                baseline = excluded.baseline, baseline_source = excluded.baseline_source, anchored_time = excluded.anchored_time,
                breaches = excluded.breaches, last_evaluation = excluded.last_evaluation, last_trigger_time = excluded.last_trigger_time,
                updated_time = excluded.updated_time, cusum = excluded.cusum, cusum_outcome_id = excluded.cusum_outcome_id,
                last_outcome_time = excluded.last_outcome_time
            """, arguments: [e.monitor, e.model, e.version, e.baseline, e.baselineSource, e.anchoredTime, e.breaches, e.evaluationJSON,
                             e.lastTriggerTime, now, e.cusum, e.cursor?.id ?? 0, e.cursor?.time])
    }

    /// What came of a retrain the monitor asked for, with its audit row. Only a start moves the
    /// trigger time (and so the cooldown).
    /// Records what came of a breach. A start is a claim: it holds only if no trigger was recorded
    /// within `cooldown` before `now`, so of two daemons that saw the same breach one starts the
    /// retrain and the other is told it lost (false), whatever the order of their reads.
    @discardableResult
    public static func recordTrigger(_ tx: StoreTransaction, monitor: String, started: Bool, reason: String, runID: String?, now: Int64,
                                     cooldown: Int64 = 0) throws -> Bool {
        if started {
            try tx.db.execute(sql: """
                UPDATE monitor_state SET last_trigger_time = ?, last_trigger_run = COALESCE(?, last_trigger_run),
                    last_trigger_reason = ?, last_decision = ?
                WHERE monitor = ? AND (last_trigger_time IS NULL OR last_trigger_time <= ?)
                """, arguments: [now, runID, reason, reason, monitor, now - cooldown])
            guard tx.db.changesCount > 0 else {
                try AuditLog.record(tx, entityType: "monitor", entityID: monitor, action: "trigger_lost", to: runID,
                                    detail: "another process started a retrain within the cooldown")
                return false
            }
        } else {
            try tx.db.execute(sql: "UPDATE monitor_state SET last_decision = ? WHERE monitor = ?", arguments: [reason, monitor])
        }
        try AuditLog.record(tx, entityType: "monitor", entityID: monitor, action: started ? "trigger" : "trigger_refused", to: runID, detail: reason)
        return true
    }
}

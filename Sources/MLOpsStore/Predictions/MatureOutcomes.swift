
/// The outcomes a hit rate is judged on, for both a rollout's analysis and a monitor: contacted,
/// non-holdout predictions of one version whose label is known by `now`. One definition, so the
/// canary and the monitor never count differently.
public enum MatureOutcomes {
    static let from = """
        FROM predictions p JOIN outcomes o ON o.prediction_id = p.id
        WHERE p.model_name = ? AND p.model_version = ? AND p.contacted = 1 AND p.holdout = 0 AND o.observed_time <= ?
        """

    /// Where an evaluation left off: the newest outcome it counted, by (recorded time, prediction).
    public struct Cursor: Sendable, Hashable, Comparable {
        public var time: Int64
        public var id: Int64
        public init(time: Int64, id: Int64) {
            self.time = time
            self.id = id
        }
        public static func < (a: Cursor, b: Cursor) -> Bool { (a.time, a.id) < (b.time, b.id) }
    }

    public struct Counts: Sendable, Hashable {
        public var trials: Int
        public var successes: Int
    }

    /// Outcomes observed after `observedAfter`: a monitor's window.
    public static func count(_ tx: StoreTransaction, model: String, version: Int, now: Int64, observedAfter: Int64) throws -> Counts {
        try count(tx.db, model: model, version: version, now: now, and: "o.observed_time > ?", [observedAfter])
    }

    /// Outcomes of predictions made in `since ..< until`, in `rolloutID` when given: a rollout's arm,
    /// or the first window after a promotion.
    public static func count(_ tx: StoreTransaction, model: String, version: Int, now: Int64, createdFrom since: Int64, before until: Int64,
                             rolloutID: String? = nil) throws -> Counts {
        if let rolloutID {
            return try count(tx.db, model: model, version: version, now: now,
                             and: "p.created_time >= ? AND p.created_time < ? AND p.rollout_id = ?", [since, until, rolloutID])
        }
        return try count(tx.db, model: model, version: version, now: now, and: "p.created_time >= ? AND p.created_time < ?", [since, until])
    }

    private static func count(_ db: SQLDatabase, model: String, version: Int, now: Int64, and condition: String,
                              _ arguments: SQLArguments) throws -> Counts {
        let row = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, COALESCE(SUM(o.label), 0) AS hits \(from) AND \(condition)",
                                   arguments: [model, version, now] + arguments)
        return Counts(trials: row?["n"] ?? 0, successes: row?["hits"] ?? 0)
    }

    /// The newest mature outcome of `version`.
    public static func newest(_ tx: StoreTransaction, model: String, version: Int, now: Int64) throws -> Cursor? {
        try Row.fetchOne(tx.db, sql: "SELECT o.recorded_time, o.prediction_id \(from) ORDER BY o.recorded_time DESC, o.prediction_id DESC LIMIT 1",
                         arguments: [model, version, now]).map { Cursor(time: $0[0], id: $0[1]) }
    }

    /// The labels recorded after `cursor`, in the order they were recorded: what a CUSUM observes.
    public static func labels(_ tx: StoreTransaction, model: String, version: Int, now: Int64, after cursor: Cursor) throws -> [Bool] {
        try Bool.fetchAll(tx.db, sql: """
            SELECT o.label \(from) AND (o.recorded_time > ? OR (o.recorded_time = ? AND o.prediction_id > ?))
            ORDER BY o.recorded_time, o.prediction_id
            """, arguments: [model, version, now, cursor.time, cursor.time, cursor.id])
    }
}


/// What MLflow's `Run` message holds beside the run's row: latest metrics, params, tags, inputs
/// and outputs. A search page reads each table once for all its runs.
public struct RunDetails: Sendable {
    public var metrics: [MetricPoint] = []
    public var params: KeyValues = []
    public var tags: KeyValues = []
    /// Inputs as the client sent them, as JSON text, by kind (`dataset`, `model`).
    public var inputs: [(kind: String, json: String)] = []
    public var outputs: [(modelID: String, step: Int64)] = []

    public init() {}
}

extension Tracker {
    /// The details of each of `runIDs`, by run id.
    public static func details(_ tx: StoreTransaction, _ runIDs: [String]) throws -> [String: RunDetails] {
        guard !runIDs.isEmpty else { return [:] }
        let marks = runIDs.map { _ in "?" }.joined(separator: ",")
        func rows(_ sql: String) throws -> [Row] { try Row.fetchAll(tx.db, sql: sql, arguments: runIDs) }
        var details: [String: RunDetails] = [:]
        for row in try rows("SELECT run_uuid, key, value, timestamp, step, is_nan FROM latest_metrics WHERE run_uuid IN (\(marks)) ORDER BY key") {
            details[row["run_uuid"], default: RunDetails()].metrics.append(MetricPoint(row: row))
        }
        for row in try rows("SELECT run_uuid, key, value FROM params WHERE run_uuid IN (\(marks)) ORDER BY key") {
            details[row["run_uuid"], default: RunDetails()].params.append((row["key"], (row["value"] as String?) ?? ""))
        }
        for row in try rows("SELECT run_uuid, key, value FROM tags WHERE run_uuid IN (\(marks)) ORDER BY key") {
            details[row["run_uuid"], default: RunDetails()].tags.append((row["key"], (row["value"] as String?) ?? ""))
        }
        for row in try rows("SELECT run_uuid, kind, body FROM run_inputs WHERE run_uuid IN (\(marks)) ORDER BY kind, name, digest") {
            details[row["run_uuid"], default: RunDetails()].inputs.append((row["kind"], row["body"]))
        }
        for row in try rows("SELECT run_uuid, model_id, step FROM run_outputs WHERE run_uuid IN (\(marks)) ORDER BY step, model_id") {
            details[row["run_uuid"], default: RunDetails()].outputs.append((row["model_id"], row["step"]))
        }
        return details
    }

    /// A run's name, kept with its `mlflow.runName` tag.
    public static func rename(_ tx: StoreTransaction, _ runID: String, to name: String) throws {
        try tx.db.execute(sql: "UPDATE runs SET name = ? WHERE run_uuid = ?", arguments: [name, runID])
    }

    /// False when the run had no such tag.
    public static func deleteTag(_ tx: StoreTransaction, _ runID: String, _ key: String) throws -> Bool {
        try tx.db.execute(sql: "DELETE FROM tags WHERE run_uuid = ? AND key = ?", arguments: [runID, key])
        return tx.db.changesCount > 0
    }

    /// One input of a run (a dataset or a model), kept as the client sent it; the same name and
    /// digest logged again replaces it.
    public static func logInput(_ tx: StoreTransaction, _ runID: String, kind: String, name: String, digest: String, json: String) throws {
        try tx.db.cachedStatement(sql: """
            INSERT INTO run_inputs (run_uuid, kind, name, digest, body) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (run_uuid, kind, name, digest) DO UPDATE SET body = excluded.body
            """).execute(arguments: [runID, kind, name, digest, json])
    }

    /// A model the run produced; logged once.
    public static func logOutput(_ tx: StoreTransaction, _ runID: String, modelID: String, step: Int64) throws {
        try tx.db.execute(sql: "INSERT INTO run_outputs (run_uuid, model_id, step) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                          arguments: [runID, modelID, step])
    }

    /// A page of one metric's history, by step then time; `limit` nil reads to the end.
    public static func metricHistory(_ tx: StoreTransaction, _ runID: String, key: String, limit: Int?, offset: Int) throws -> [MetricPoint] {
        try Row.fetchAll(tx.db, sql: """
            SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ? AND key = ? ORDER BY step, timestamp LIMIT ? OFFSET ?
            """, arguments: [runID, key, limit ?? -1, offset]).map(MetricPoint.init(row:))
    }
}

/// A stretch of a metric's history, summarised for drawing: its steps, its lowest and highest
/// value, and how many points it holds.
public struct MetricBucket: Sendable, Hashable {
    public var firstStep: Int64
    public var lastStep: Int64
    public var low: Double
    public var high: Double
    public var count: Int
}

extension Tracker {
    /// A metric's history cut into at most `buckets` equal spans of steps, each summarised in the
    /// database (one pass over the run's points for that key, in the primary key's order), so a
    /// chart of a million points reads a few hundred rows. NaN points are left out.
    public static func metricBuckets(_ tx: StoreTransaction, _ runID: String, key: String, buckets: Int) throws -> [MetricBucket] {
        guard let range = try Row.fetchOne(tx.db, sql: "SELECT MIN(step) AS lo, MAX(step) AS hi FROM metrics WHERE run_uuid = ? AND key = ? AND is_nan = 0",
                                           arguments: [runID, key]),
              let lo: Int64 = range["lo"], let hi: Int64 = range["hi"] else { return [] }
        let span = hi - lo + 1
        return try Row.fetchAll(tx.db, sql: """
            SELECT (step - ?) * ? / ? AS bucket, MIN(step) AS first_step, MAX(step) AS last_step, MIN(value) AS low, MAX(value) AS high, COUNT(*) AS n
            FROM metrics WHERE run_uuid = ? AND key = ? AND is_nan = 0 GROUP BY bucket ORDER BY bucket
            """, arguments: [lo, Int64(max(1, buckets)), span, runID, key]).map { row in
            MetricBucket(firstStep: row["first_step"], lastStep: row["last_step"], low: row["low"], high: row["high"], count: row["n"])
        }
    }
}

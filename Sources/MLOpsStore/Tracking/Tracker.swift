import Foundation

/// Records experiments, runs, params, metrics and tags in the store, MLflow's way: params are
/// immutable, metrics are series with a latest value kept for search, every status change is one
/// transaction with its audit row.
public struct Tracker: Sendable {
    public let store: Store

    public init(store: Store) { self.store = store }

    /// Problems a caller can fix: an unknown run, an ambiguous prefix, a changed param.
    public struct TrackingError: Error, Sendable, CustomStringConvertible {
        public var description: String
        /// When a param was logged again with another value: which, and both values, so a caller
        /// can word it its own way (the MLflow API answers with MLflow's message).
        public var changedParam: (key: String, logged: String, attempted: String)?
        public init(_ description: String) { self.description = description }
    }

    // MARK: Experiments

    /// The id of the experiment with this name, created on first use.
    public func experimentID(named name: String, artifactLocation: String? = nil) throws -> Int64 {
        try store.write { tx in try Self.experimentID(tx, named: name, artifactLocation: artifactLocation) }
    }

    public static func experimentID(_ tx: StoreTransaction, named name: String, artifactLocation: String?) throws -> Int64 {
        try ExperimentRecords.id(tx, named: name)
            ?? ExperimentRecords.insert(tx, name: name, artifactLocation: artifactLocation, now: tx.nowMillis())
    }

    public func experimentName(id: Int64) throws -> String? {
        try store.read { tx in
            return try String.fetchOne(tx.db, sql: "SELECT name FROM experiments WHERE experiment_id = ?", arguments: [id])
        }
    }

    // MARK: Runs

    /// A run as it is in the store now, inside the caller's transaction.
    public static func run(_ tx: StoreTransaction, _ id: String) throws -> RunRecord? {
        try RunRecord.fetchOne(tx.db, key: id)
    }

    /// The job a run belongs to, if it is a job's run or one of its stages.
    public static func job(_ tx: StoreTransaction, ofRun runID: String) throws -> String? {
        try String.fetchOne(tx.db, sql: "SELECT job FROM runs WHERE run_uuid = ?", arguments: [runID])
    }

    /// Inserts a new run with its first params and tags, in one transaction.
    public func create(_ run: RunRecord, params: [String: String] = [:], tags: [String: String] = [:]) throws {
        try store.write { tx in try Self.create(tx, run, params: params, tags: tags) }
    }

    public static func create(_ tx: StoreTransaction, _ run: RunRecord, params: [String: String], tags: [String: String]) throws {
        let db = tx.db
        try run.insert(db)
        try insertParams(tx, runID: run.id, params)
        try upsertTags(tx, runID: run.id, tags)
        try AuditLog.record(tx, entityType: "run", entityID: run.id, action: "create", to: run.status.rawValue,
                            detail: [run.job, run.stage].compactMap { $0 }.joined(separator: "/"))
    }

    /// Applies `change` to a run and records the status change, in one transaction.
    @discardableResult
    public func update(_ runID: String, action: String = "update", _ change: @Sendable (inout RunRecord) -> Void) throws -> RunRecord {
        try store.write { tx in try Self.update(tx, runID, action: action, change) }
    }

    @discardableResult
    public static func update(_ tx: StoreTransaction, _ runID: String, action: String, _ change: (inout RunRecord) -> Void) throws -> RunRecord {
        let db = tx.db
        guard var run = try RunRecord.fetchOne(db, key: runID) else { throw TrackingError("no run \(runID)") }
        let before = run.status
        change(&run)
        try run.update(db)
        if before != run.status || action != "update" {
            try AuditLog.record(tx, entityType: "run", entityID: runID, action: action, from: before.rawValue,
                                to: run.status.rawValue, detail: run.message)
        }
        return run
    }

    /// Records where an attempt runs, the moment it has a handle.
    public func recordAttempt(_ runID: String, _ handle: AttemptHandle) throws {
        try store.write { tx in
            switch handle {
            case let .process(identity):
                try tx.db.cachedStatement(sql: "UPDATE runs SET pid = ?, pid_start_time = ? WHERE run_uuid = ?")
                    .execute(arguments: [identity.pid, identity.startTime, runID])
            case let .remote(executor, id):
                try tx.db.execute(sql: "UPDATE runs SET executor = ?, executor_handle = ? WHERE run_uuid = ?", arguments: [executor, id, runID])
            }
        }
    }

    /// Ends a run: status, outcome, end time, exit code and message, with its audit row, in the
    /// caller's transaction. Prepared statements, since every stage attempt ends through here.
    public static func finish(_ tx: StoreTransaction, _ runID: String, outcome: RunOutcome, endTime: Int64, exitCode: Int?, message: String?) throws {
        let db = tx.db
        let previous = try String.fetchOne(db.cachedStatement(sql: "SELECT status FROM runs WHERE run_uuid = ?"), arguments: [runID])
        guard let previous else { throw TrackingError("no run \(runID)") }
        try db.cachedStatement(sql: """
            UPDATE runs SET status = ?, outcome = ?, end_time = ?, exit_code = ?, message = ? WHERE run_uuid = ?
            """).execute(arguments: [outcome.status.rawValue, outcome.rawValue, endTime, exitCode, message, runID])
        try AuditLog.record(tx, entityType: "run", entityID: runID, action: "finish", from: previous,
                            to: outcome.status.rawValue, detail: message, time: endTime)
    }

    public func run(_ id: String) throws -> RunRecord? {
        try store.read { try Self.run($0, id) }
    }

    /// The run a full id or an unambiguous prefix names.
    public func resolve(_ idOrPrefix: String, kind: RunKind? = nil) throws -> RunRecord {
        let prefix = idOrPrefix.lowercased()
        guard !prefix.isEmpty, prefix.allSatisfy(\.isHexDigit) else {
            throw TrackingError("'\(idOrPrefix)' is not a run id: run ids are hex, as `mlops runs` shows them")
        }
        let matches = try store.read { tx in
            let db = tx.db
            var sql = "SELECT * FROM runs WHERE run_uuid >= ? AND run_uuid < ?"
            var args: SQLArguments = [prefix, prefix + "g"]
            if let kind { sql += " AND kind = ?"; args.append(kind.rawValue) }
            return try RunRecord.fetchAll(db, sql: sql + " LIMIT 6", arguments: args)
        }
        switch matches.count {
        case 0: throw TrackingError("no run matches '\(idOrPrefix)'; `mlops runs` lists them")
        case 1: return matches[0]
        default:
            throw TrackingError("'\(idOrPrefix)' matches \(matches.count > 5 ? "more than 5" : "\(matches.count)") runs (\(matches.prefix(5).map(\.shortID).joined(separator: ", "))); give more of the id")
        }
    }

    /// The job run an id names; a stage attempt's id names its job run.
    public func resolveJobRun(_ idOrPrefix: String) throws -> RunRecord {
        let run = try resolve(idOrPrefix)
        if run.kind == .stage, let parentID = run.parentRunID, let parent = try self.run(parentID) { return parent }
        return run
    }

    public func children(of parentID: String) throws -> [RunRecord] {
        try store.read { try Self.children($0, of: parentID) }
    }

    public static func children(_ tx: StoreTransaction, of parentID: String) throws -> [RunRecord] {
        try RunRecord.fetchAll(tx.db, sql: "SELECT * FROM runs WHERE parent_run_id = ? ORDER BY start_time, stage, attempt, run_uuid", arguments: [parentID])
    }

    // MARK: Params, tags, metrics

    public func logParams(_ runID: String, _ params: [String: String]) throws {
        try store.write { tx in try Self.insertParams(tx, runID: runID, params) }
    }

    public func setTags(_ runID: String, _ tags: [String: String]) throws {
        try store.write { tx in try Self.upsertTags(tx, runID: runID, tags) }
    }

    /// Params are write-once: the same value again is fine, a different one is refused (as MLflow does).
    public static func insertParams(_ tx: StoreTransaction, runID: String, _ params: [String: String]) throws {
        let db = tx.db
        guard !params.isEmpty else { return }
        let statement = try db.cachedStatement(sql: "INSERT INTO params (run_uuid, key, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
        for (key, value) in params.sorted(by: { $0.key < $1.key }) {
            try statement.execute(arguments: [runID, key, value])
            if db.changesCount == 0 {
                let old = try String.fetchOne(db, sql: "SELECT value FROM params WHERE run_uuid = ? AND key = ?", arguments: [runID, key])
                if let old, old != value {
                    var error = TrackingError("param '\(key)' of run \(runID.prefix(8)) is already '\(old)'; params cannot change (log a metric or a tag instead)")
                    error.changedParam = (key, old, value)
                    throw error
                }
            }
        }
    }

    public static func upsertTags(_ tx: StoreTransaction, runID: String, _ tags: [String: String]) throws {
        let db = tx.db
        guard !tags.isEmpty else { return }
        let statement = try db.cachedStatement(sql: """
            INSERT INTO tags (run_uuid, key, value) VALUES (?, ?, ?)
            ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value
            """)
        for (key, value) in tags { try statement.execute(arguments: [runID, key, value]) }
    }

    /// The batch path: one transaction, one statement run for every point (bound through SQLite's
    /// own calls on SQLite), and the latest value per key computed here and written once per key.
    public func logMetrics(_ runID: String, _ points: [MetricPoint]) throws {
        guard !points.isEmpty else { return }
        try store.write { tx in try Self.insertMetrics(tx, runID: runID, points) }
    }

    public static func insertMetrics(_ tx: StoreTransaction, runID: String, _ points: [MetricPoint]) throws {
        let db = tx.db
        guard !points.isEmpty else { return }
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM runs WHERE run_uuid = ?", arguments: [runID]) == true else {
            throw TrackingError("no run \(runID)")
        }
        var latest: [String: MetricPoint] = [:]
        var rows: [[SQLValue]] = []
        rows.reserveCapacity(points.count)
        let run = SQLValue.text(runID)
        for point in points {
            let isNaN = point.value.isNaN
            rows.append([run, .text(point.key), .real(isNaN ? 0 : point.value), .integer(point.timestamp), .integer(point.step), .integer(isNaN ? 1 : 0)])
            if let current = latest[point.key], (current.step, current.timestamp) > (point.step, point.timestamp) { continue }
            latest[point.key] = point
        }
        try db.executeMany(sql: "INSERT INTO metrics (run_uuid, key, value, timestamp, step, is_nan) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", rows: rows)
        try upsertLatest(tx, runID: runID, Array(latest.values))
    }

    /// Keeps MLflow's notion of latest: the highest step, then the latest timestamp.
    public static func upsertLatest(_ tx: StoreTransaction, runID: String, _ points: [MetricPoint]) throws {
        let db = tx.db
        let statement = try db.cachedStatement(sql: """
            INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step, is_nan) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp,
                step = excluded.step, is_nan = excluded.is_nan
            WHERE (excluded.step, excluded.timestamp) >= (latest_metrics.step, latest_metrics.timestamp)
            """)
        for point in points {
            try statement.execute(arguments: [runID, point.key, point.value.isNaN ? 0 : point.value, point.timestamp, point.step, point.value.isNaN])
        }
    }

    public func params(of runID: String) throws -> [String: String] {
        try store.read { tx in
            let db = tx.db
            return Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT key, value FROM params WHERE run_uuid = ?", arguments: [runID])
                .map { ($0["key"] as String, $0["value"] as String) })
        }
    }

    public func tags(of runID: String) throws -> [String: String] {
        try store.read { tx in
            let db = tx.db
            return Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT key, value FROM tags WHERE run_uuid = ?", arguments: [runID])
                .map { ($0["key"] as String, ($0["value"] as String?) ?? "") })
        }
    }

    /// Params of many runs in one query, by run (a page of the web view's runs table).
    public static func params(_ tx: StoreTransaction, of runIDs: [String]) throws -> [String: [String: String]] {
        try keyValues(tx, table: "params", of: runIDs)
    }

    /// Tags of many runs in one query, by run.
    public static func tags(_ tx: StoreTransaction, of runIDs: [String]) throws -> [String: [String: String]] {
        try keyValues(tx, table: "tags", of: runIDs)
    }

    static func keyValues(_ tx: StoreTransaction, table: String, of runIDs: [String]) throws -> [String: [String: String]] {
        guard !runIDs.isEmpty else { return [:] }
        var result: [String: [String: String]] = [:]
        let placeholders = runIDs.map { _ in "?" }.joined(separator: ",")
        for row in try Row.fetchAll(tx.db, sql: "SELECT run_uuid, key, value FROM \(table) WHERE run_uuid IN (\(placeholders))", arguments: runIDs) {
            result[row["run_uuid"], default: [:]][row["key"]] = (row["value"] as String?) ?? ""
        }
        return result
    }

    /// A model a run logged through MLflow 3's API (`mlflow.<flavor>.log_model`), which
    /// `register_model("models:/ID")` can turn into a registered version.
    public struct LoggedModel: Sendable, Hashable {
        public var id: String
        public var name: String
        /// READY, PENDING or UPLOAD_FAILED.
        public var status: String
        public var uri: String { "models:/\(id)" }
    }

    /// The logged models a run produced: those it logged, and those it names as outputs.
    public func loggedModels(of runID: String) throws -> [LoggedModel] {
        try store.read { tx in
            let db = tx.db
            return try Row.fetchAll(db, sql: """
                SELECT model_id, name, status FROM logged_models
                WHERE lifecycle_stage = 'active' AND (source_run_id = ? OR model_id IN (SELECT model_id FROM run_outputs WHERE run_uuid = ?))
                ORDER BY creation_time, model_id
                """, arguments: [runID, runID])
                .map { LoggedModel(id: $0["model_id"], name: $0["name"], status: String(($0["status"] as String).replacingOccurrences(of: "LOGGED_MODEL_", with: ""))) }
        }
    }

    public func latestMetrics(of runID: String) throws -> [MetricPoint] {
        try store.read { tx in
            let db = tx.db
            return try Row.fetchAll(db, sql: "SELECT key, value, timestamp, step, is_nan FROM latest_metrics WHERE run_uuid = ? ORDER BY key", arguments: [runID])
                .map (MetricPoint.init(row:))
        }
    }

    public func metricHistory(of runID: String, key: String) throws -> [MetricPoint] {
        try store.read { tx in
            let db = tx.db
            return try Row.fetchAll(db, sql: "SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ? AND key = ? ORDER BY step, timestamp", arguments: [runID, key])
                .map (MetricPoint.init(row:))
        }
    }

    /// Copies a stage's params (where the job has none of that name) and latest metrics onto its job
    /// run, so a job can be searched and ordered by what its stages measured.
    public static func rollUp(_ tx: StoreTransaction, child runID: String, into parentID: String) throws {
        let db = tx.db
        try db.cachedStatement(sql: """
            INSERT INTO params (run_uuid, key, value) SELECT ?, key, value FROM params WHERE run_uuid = ?
            ON CONFLICT DO NOTHING
            """).execute(arguments: [parentID, runID])
        let latest = try Row.fetchAll(db, sql: "SELECT key, value, timestamp, step, is_nan FROM latest_metrics WHERE run_uuid = ?", arguments: [runID])
        guard !latest.isEmpty else { return }
        let points = latest.map (MetricPoint.init(row:))
        let insert = try db.cachedStatement(sql: "INSERT INTO metrics (run_uuid, key, value, timestamp, step, is_nan) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")
        for p in points {
            try insert.execute(arguments: [parentID, p.key, p.value.isNaN ? 0 : p.value, p.timestamp, p.step, p.value.isNaN])
        }
        try upsertLatest(tx, runID: parentID, points)
    }
}

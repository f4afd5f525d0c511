
/// The owner of `experiments` and `experiment_tags`.
public enum ExperimentRecords {
    public struct Experiment: Sendable {
        public var id: Int64
        public var name: String
        public var artifactLocation: String?
        public var lifecycleStage: String
        public var creationTime: Int64?
        public var lastUpdateTime: Int64?
        public var tags: KeyValues
    }

    static func experiment(_ db: SQLDatabase, _ row: Row) throws -> Experiment {
        let id: Int64 = row["experiment_id"]
        let tags = try Row.fetchAll(db, sql: "SELECT key, value FROM experiment_tags WHERE experiment_id = ? ORDER BY key", arguments: [id])
        return Experiment(id: id, name: row["name"], artifactLocation: row["artifact_location"], lifecycleStage: row["lifecycle_stage"],
                          creationTime: row["creation_time"], lastUpdateTime: row["last_update_time"], tags: Row.keyValues(tags))
    }

    public static func experiment(_ tx: StoreTransaction, id: Int64) throws -> Experiment? {
        try Row.fetchOne(tx.db, sql: "SELECT * FROM experiments WHERE experiment_id = ?", arguments: [id]).map { try experiment(tx.db, $0) }
    }

    public static func experiment(_ tx: StoreTransaction, named name: String) throws -> Experiment? {
        try Row.fetchOne(tx.db, sql: "SELECT * FROM experiments WHERE name = ?", arguments: [name]).map { try experiment(tx.db, $0) }
    }

    /// Whether another experiment than `id` has this name.
    public static func nameTaken(_ tx: StoreTransaction, _ name: String, except id: Int64? = nil) throws -> Bool {
        try Bool.fetchOne(tx.db, sql: "SELECT 1 FROM experiments WHERE name = ? AND experiment_id IS DISTINCT FROM ?", arguments: [name, id]) == true
    }

    /// Creates an experiment with its tags, audited; without a location its files go through the
    /// artifact proxy (`mlflow-artifacts:/ID`).
    public static func create(_ tx: StoreTransaction, name: String, artifactLocation: String?, tags: [String: String], now: Int64) throws -> Int64 {
        let id = try insert(tx, name: name, artifactLocation: artifactLocation, now: now)
        if artifactLocation == nil {
            try tx.db.execute(sql: "UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?", arguments: ["mlflow-artifacts:/\(id)", id])
        }
        for (key, value) in tags.sorted(by: { $0.key < $1.key }) { try setTag(tx, id, key, value) }
        return id
    }

    /// The id of the experiment with this name, if there is one.
    public static func id(_ tx: StoreTransaction, named name: String) throws -> Int64? {
        try Int64.fetchOne(tx.db, sql: "SELECT experiment_id FROM experiments WHERE name = ?", arguments: [name])
    }

    /// Inserts an experiment as given (a job's own keeps its folder, or none), audited.
    public static func insert(_ tx: StoreTransaction, name: String, artifactLocation: String?, now: Int64) throws -> Int64 {
        guard let id = try Int64.fetchOne(tx.db, sql: """
            INSERT INTO experiments (name, artifact_location, creation_time, last_update_time) VALUES (?, ?, ?, ?) RETURNING experiment_id
            """, arguments: [name, artifactLocation, now, now]) else { throw StoreError("experiment \(name) was not given an id") }
        try AuditLog.record(tx, entityType: "experiment", entityID: String(id), action: "create", detail: name)
        return id
    }

    public static func rename(_ tx: StoreTransaction, _ id: Int64, to name: String, now: Int64) throws {
        try tx.db.execute(sql: "UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?", arguments: [name, now, id])
        try AuditLog.record(tx, entityType: "experiment", entityID: String(id), action: "rename", to: name)
    }

    /// Deleting an experiment deletes its runs too, and restoring restores them (as MLflow does).
    public static func setLifecycle(_ tx: StoreTransaction, _ id: Int64, to stage: String, now: Int64) throws {
        try tx.db.execute(sql: "UPDATE experiments SET lifecycle_stage = ?, last_update_time = ? WHERE experiment_id = ?", arguments: [stage, now, id])
        try tx.db.execute(sql: "UPDATE runs SET lifecycle_stage = ? WHERE experiment_id = ?", arguments: [stage, id])
        try AuditLog.record(tx, entityType: "experiment", entityID: String(id), action: stage == "deleted" ? "delete" : "restore", to: stage)
    }

    public static func setTag(_ tx: StoreTransaction, _ id: Int64, _ key: String, _ value: String) throws {
        try tx.db.execute(sql: """
            INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)
            ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value
            """, arguments: [id, key, value])
    }

    /// False when the experiment had no such tag.
    public static func deleteTag(_ tx: StoreTransaction, _ id: Int64, _ key: String) throws -> Bool {
        try tx.db.execute(sql: "DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?", arguments: [id, key])
        return tx.db.changesCount > 0
    }

    /// A search: the lifecycle stages, a filter on tags and attributes (name, experiment_id,
    /// creation_time, last_update_time, lifecycle_stage), and `(attribute, ascending)` order terms.
    public static func search(_ tx: StoreTransaction, stages: [String], filter: RunFilter?, order: [(key: String, ascending: Bool)],
                              page: Page) throws -> [Experiment] {
        var args: SQLArguments = stages
        var clauses = ["e.lifecycle_stage IN (\(stages.map { _ in "?" }.joined(separator: ",")))"]
        for comparison in filter?.comparisons ?? [] {
            clauses.append(comparison.entity == .tag
                ? FilterSQL.keyValue(comparison, table: "experiment_tags", match: "t.experiment_id = e.experiment_id", args: &args, tx.dialect)
                : FilterSQL.compare(comparison, column: "e.\(comparison.key)", args: &args, tx.dialect))
        }
        let terms = order.map { "e.\($0.key) \($0.ascending ? "ASC" : "DESC")" } + ["e.creation_time DESC", "e.experiment_id ASC"]
        let sql = "SELECT e.* FROM experiments e WHERE \(clauses.joined(separator: " AND ")) ORDER BY \(terms.joined(separator: ", "))"
        return try FilterSQL.page(tx.db, sql, args, limit: page.limit, offset: page.offset).map { try experiment(tx.db, $0) }
    }
}

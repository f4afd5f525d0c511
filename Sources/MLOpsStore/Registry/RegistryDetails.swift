
/// The registry as MLflow's registry API shows it: descriptions, MLflow's deprecated stages,
/// tags of models and versions, and searches. Changes go through the same owner, audited.
extension RegistryRecords {
    public struct VersionDetail: Sendable {
        public var name: String
        public var version: Int
        public var creationTime: Int64
        public var lastUpdatedTime: Int64
        public var currentStage: String
        public var status: String
        public var source: String?
        public var runID: String?
        public var modelID: String?
        public var description: String?
        public var runLink: String?
        public var tags: KeyValues
        public var aliases: [String]
    }

    public struct ModelDetail: Sendable {
        public var name: String
        public var creationTime: Int64
        public var lastUpdatedTime: Int64
        public var description: String?
        public var tags: KeyValues
        public var aliases: [(alias: String, version: Int)]
        /// The newest version in each stage (MLflow's "latest versions").
        public var latestVersions: [VersionDetail]
    }

    static func versionDetail(_ db: SQLDatabase, _ row: Row) throws -> VersionDetail {
        let name: String = row["name"], version: Int = row["version"]
        let tags = try Row.fetchAll(db, sql: "SELECT key, value FROM model_version_tags WHERE name = ? AND version = ? ORDER BY key", arguments: [name, version])
        let aliases = try String.fetchAll(db, sql: "SELECT alias FROM registered_model_aliases WHERE name = ? AND version = ? ORDER BY alias", arguments: [name, version])
        return VersionDetail(name: name, version: version, creationTime: row["creation_time"], lastUpdatedTime: row["last_updated_time"],
                             currentStage: row["current_stage"], status: row["status"], source: row["source"], runID: row["source_run_id"],
                             modelID: row["model_id"], description: row["description"], runLink: row["run_link"], tags: Row.keyValues(tags), aliases: aliases)
    }

    static func modelDetail(_ db: SQLDatabase, _ row: Row) throws -> ModelDetail {
        let name: String = row["name"]
        let tags = try Row.fetchAll(db, sql: "SELECT key, value FROM registered_model_tags WHERE name = ? ORDER BY key", arguments: [name])
        let aliases = try Row.fetchAll(db, sql: "SELECT alias, version FROM registered_model_aliases WHERE name = ? ORDER BY alias", arguments: [name])
        return ModelDetail(name: name, creationTime: row["creation_time"], lastUpdatedTime: row["last_updated_time"], description: row["description"],
                           tags: Row.keyValues(tags), aliases: aliases.map { ($0["alias"], $0["version"]) }, latestVersions: try latestVersions(db, name))
    }

    static func latestVersions(_ db: SQLDatabase, _ name: String) throws -> [VersionDetail] {
        try Row.fetchAll(db, sql: """
            SELECT * FROM model_versions v WHERE name = ? AND version = (SELECT MAX(version) FROM model_versions w WHERE w.name = v.name AND w.current_stage = v.current_stage)
            ORDER BY version
            """, arguments: [name]).map { try versionDetail(db, $0) }
    }

    public static func versionDetail(_ tx: StoreTransaction, _ name: String, _ version: Int) throws -> VersionDetail? {
        try Row.fetchOne(tx.db, sql: "SELECT * FROM model_versions WHERE name = ? AND version = ?", arguments: [name, version])
            .map { try versionDetail(tx.db, $0) }
    }

    public static func modelDetail(_ tx: StoreTransaction, _ name: String) throws -> ModelDetail? {
        try Row.fetchOne(tx.db, sql: "SELECT * FROM registered_models WHERE name = ?", arguments: [name]).map { try modelDetail(tx.db, $0) }
    }

    public static func latestVersions(_ tx: StoreTransaction, _ name: String) throws -> [VersionDetail] {
        try latestVersions(tx.db, name)
    }

    /// Registers a model with no version yet (MLflow's `create`), with its tags, audited.
    public static func createModel(_ tx: StoreTransaction, _ name: String, description: String?, tags: [String: String], now: Int64) throws {
        try tx.db.execute(sql: "INSERT INTO registered_models (name, description, creation_time, last_updated_time) VALUES (?, ?, ?, ?)",
                          arguments: [name, description, now, now])
        for (key, value) in tags.sorted(by: { $0.key < $1.key }) { try setModelTag(tx, name, key, value) }
        try AuditLog.record(tx, entityType: "registered_model", entityID: name, action: "create")
    }

    public static func describeModel(_ tx: StoreTransaction, _ name: String, _ description: String?, now: Int64) throws {
        try tx.db.execute(sql: "UPDATE registered_models SET description = ?, last_updated_time = ? WHERE name = ?", arguments: [description, now, name])
    }

    public static func describeVersion(_ tx: StoreTransaction, _ name: String, _ version: Int, _ description: String?, now: Int64) throws {
        try tx.db.execute(sql: "UPDATE model_versions SET description = ?, last_updated_time = ? WHERE name = ? AND version = ?",
                          arguments: [description, now, name, version])
    }

    /// Where a version registered through MLflow's API came from: its source URI, run link,
    /// description and logged model.
    public static func recordOrigin(_ tx: StoreTransaction, _ name: String, _ version: Int, source: String, runLink: String?,
                                    description: String?, modelID: String?) throws {
        try tx.db.execute(sql: "UPDATE model_versions SET source = ?, run_link = ?, description = ?, model_id = ? WHERE name = ? AND version = ?",
                          arguments: [source, runLink, description, modelID, name, version])
    }

    public static func setModelTag(_ tx: StoreTransaction, _ name: String, _ key: String, _ value: String) throws {
        try tx.db.execute(sql: """
            INSERT INTO registered_model_tags (name, key, value) VALUES (?, ?, ?)
            ON CONFLICT (name, key) DO UPDATE SET value = excluded.value
            """, arguments: [name, key, value])
        try AuditLog.record(tx, entityType: "registered_model", entityID: name, action: "tag", to: "\(key)=\(value)")
    }

    public static func deleteModelTag(_ tx: StoreTransaction, _ name: String, _ key: String) throws {
        try tx.db.execute(sql: "DELETE FROM registered_model_tags WHERE name = ? AND key = ?", arguments: [name, key])
        if tx.db.changesCount > 0 { try AuditLog.record(tx, entityType: "registered_model", entityID: name, action: "untag", from: key) }
    }

    public static func deleteVersionTag(_ tx: StoreTransaction, _ name: String, _ version: Int, _ key: String) throws {
        try tx.db.execute(sql: "DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?", arguments: [name, version, key])
        if tx.db.changesCount > 0 { try AuditLog.record(tx, entityType: "model_version", entityID: "\(name)/\(version)", action: "untag", from: key) }
    }

    /// MLflow's deprecated stages, kept for its clients (mlops routes by aliases); with
    /// `archiveOthers`, the versions in that stage move to Archived.
    public static func transitionStage(_ tx: StoreTransaction, _ name: String, _ version: Int, to stage: String, archiveOthers: Bool, now: Int64) throws {
        if archiveOthers {
            try tx.db.execute(sql: "UPDATE model_versions SET current_stage = 'Archived', last_updated_time = ? WHERE name = ? AND current_stage = ? AND version != ?",
                              arguments: [now, name, stage, version])
        }
        try tx.db.execute(sql: "UPDATE model_versions SET current_stage = ?, last_updated_time = ? WHERE name = ? AND version = ?", arguments: [stage, now, name, version])
        try AuditLog.record(tx, entityType: "model_version", entityID: "\(name)/\(version)", action: "stage", to: stage)
    }

    /// Registered models by name and tags, by name.
    public static func searchModels(_ tx: StoreTransaction, filter: RunFilter?, page: Page) throws -> [ModelDetail] {
        var args: SQLArguments = []
        let clauses = (filter?.comparisons ?? []).map { c in
            c.entity == .tag
                ? FilterSQL.keyValue(c, table: "registered_model_tags", match: "t.name = m.name", args: &args, tx.dialect)
                : FilterSQL.compare(c, column: "m.name", args: &args, tx.dialect)
        }
        let sql = "SELECT m.* FROM registered_models m WHERE \(clauses.isEmpty ? "1" : clauses.joined(separator: " AND ")) ORDER BY m.name"
        return try FilterSQL.page(tx.db, sql, args, limit: page.limit, offset: page.offset).map { try modelDetail(tx.db, $0) }
    }

    /// Versions by attributes (name, run_id, source, version, current_stage, status) and tags,
    /// by name, newest version first.
    public static func searchVersions(_ tx: StoreTransaction, filter: RunFilter?, page: Page) throws -> [VersionDetail] {
        var args: SQLArguments = []
        let clauses = (filter?.comparisons ?? []).map { c in
            c.entity == .tag
                ? FilterSQL.keyValue(c, table: "model_version_tags", match: "t.name = model_versions.name AND t.version = model_versions.version", args: &args, tx.dialect)
                : FilterSQL.compare(c, column: c.key == "run_id" ? "source_run_id" : c.key, args: &args, tx.dialect)
        }
        let sql = "SELECT * FROM model_versions\(clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")) ORDER BY name, version DESC"
        return try FilterSQL.page(tx.db, sql, args, limit: page.limit, offset: page.offset).map { try versionDetail(tx.db, $0) }
    }
}

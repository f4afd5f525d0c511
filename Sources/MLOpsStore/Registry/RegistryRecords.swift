import Foundation

/// The owner of the registry's tables: registered models, versions, their tags and aliases. Every
/// create, change and deletion of a version or an alias goes through here, whichever door asked
/// (the CLI, a stage, a rollout, the MLflow API), with its audit row in the same transaction.
public enum RegistryRecords {
    /// One registered model as `mlops models` lists it.
    public struct Summary: Sendable, Hashable {
        public var name: String
        public var latestVersion: Int?
        public var versions: Int
        public var aliases: [String: Int]
        public var lastUpdated: Int64
    }

    // MARK: Versions

    /// Reserves the next version number of `name` as PENDING_REGISTRATION (creating the model on
    /// first use), so two registrations never take the same number.
    public static func reserveVersion(_ tx: StoreTransaction, name: String, runID: String?, source: String, storageRoot: String,
                                      tags: [String: String], now: Int64) throws -> Int {
        let db = tx.db
        try db.execute(sql: """
            INSERT INTO registered_models (name, creation_time, last_updated_time) VALUES (?, ?, ?)
            ON CONFLICT (name) DO UPDATE SET last_updated_time = excluded.last_updated_time
            """, arguments: [name, now, now])
        let next = (try Int.fetchOne(db, sql: "SELECT MAX(version) FROM model_versions WHERE name = ?", arguments: [name]) ?? 0) + 1
        try db.execute(sql: """
            INSERT INTO model_versions (name, version, status, source_run_id, source, storage_location, creation_time, last_updated_time)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [name, next, ModelVersion.Status.pendingRegistration.rawValue, runID, source, "\(storageRoot)/\(name)/\(next)", now, now])
        for (key, value) in tags.sorted(by: { $0.key < $1.key }) {
            try db.execute(sql: "INSERT INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?)", arguments: [name, next, key, value])
        }
        try AuditLog.record(tx, entityType: "model_version", entityID: "\(name)/\(next)", action: "reserve", to: "PENDING_REGISTRATION", detail: runID)
        return next
    }

    /// A reserved version's files are in place: READY, with their checksums.
    public static func markReady(_ tx: StoreTransaction, name: String, version: Int, files: [ModelVersion.File], digest: String, now: Int64) throws {
        let filesJSON = String(decoding: try JSONEncoder().encode(files), as: UTF8.self)
        try tx.db.execute(sql: """
            UPDATE model_versions SET status = ?, sha256 = ?, files = ?, last_updated_time = ? WHERE name = ? AND version = ?
            """, arguments: [ModelVersion.Status.ready.rawValue, digest, filesJSON, now, name, version])
        try AuditLog.record(tx, entityType: "model_version", entityID: "\(name)/\(version)", action: "register",
                            from: "PENDING_REGISTRATION", to: "READY", detail: digest)
    }

    /// A reserved version whose files could not be put in place.
    public static func markFailed(_ tx: StoreTransaction, name: String, version: Int, reason: String) throws {
        try tx.db.execute(sql: "UPDATE model_versions SET status = ? WHERE name = ? AND version = ?",
                          arguments: [ModelVersion.Status.failedRegistration.rawValue, name, version])
        try AuditLog.record(tx, entityType: "model_version", entityID: "\(name)/\(version)", action: "register",
                            from: "PENDING_REGISTRATION", to: "FAILED_REGISTRATION", detail: reason)
    }

    public static func version(_ tx: StoreTransaction, _ name: String, _ version: Int) throws -> ModelVersion? {
        try ModelVersion.fetchOne(tx.db, sql: "SELECT * FROM model_versions WHERE name = ? AND version = ?", arguments: [name, version])
    }

    public static func versions(_ tx: StoreTransaction, _ name: String) throws -> [ModelVersion] {
        try ModelVersion.fetchAll(tx.db, sql: "SELECT * FROM model_versions WHERE name = ? ORDER BY version", arguments: [name])
    }

    public static func latestReadyVersion(_ tx: StoreTransaction, _ name: String) throws -> Int? {
        try Int.fetchOne(tx.db, sql: "SELECT MAX(version) FROM model_versions WHERE name = ? AND status = 'READY'", arguments: [name])
    }

    /// The version registered from the run `runID`, if any: how a gate finds the candidate it judged.
    public static func version(_ tx: StoreTransaction, registeredFrom runID: String, name: String) throws -> ModelVersion? {
        try ModelVersion.fetchOne(tx.db, sql: "SELECT * FROM model_versions WHERE name = ? AND source_run_id = ? ORDER BY version DESC LIMIT 1",
                                  arguments: [name, runID])
    }

    /// Sets a tag on a version, audited.
    public static func tag(_ tx: StoreTransaction, _ name: String, _ version: Int, _ key: String, _ value: String) throws {
        try tx.db.execute(sql: """
            INSERT INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?)
            ON CONFLICT (name, version, key) DO UPDATE SET value = excluded.value
            """, arguments: [name, version, key, value])
        try AuditLog.record(tx, entityType: "model_version", entityID: "\(name)/\(version)", action: "tag", to: "\(key)=\(value)")
    }

    // MARK: Models

    public static func modelExists(_ tx: StoreTransaction, _ name: String) throws -> Bool {
        try Bool.fetchOne(tx.db, sql: "SELECT 1 FROM registered_models WHERE name = ?", arguments: [name]) == true
    }

    public static func summaries(_ tx: StoreTransaction) throws -> [Summary] {
        try Row.fetchAll(tx.db, sql: """
            SELECT m.name, m.last_updated_time, MAX(v.version) AS latest, COUNT(v.version) AS versions
            FROM registered_models m LEFT JOIN model_versions v ON v.name = m.name GROUP BY m.name ORDER BY m.name
            """).map { row in
            let name: String = row["name"]
            return Summary(name: name, latestVersion: row["latest"], versions: row["versions"], aliases: try aliases(tx, name),
                           lastUpdated: row["last_updated_time"])
        }
    }

    // MARK: Aliases

    public static func aliases(_ tx: StoreTransaction, _ name: String) throws -> [String: Int] {
        Dictionary(uniqueKeysWithValues: try Row.fetchAll(tx.db, sql: "SELECT alias, version FROM registered_model_aliases WHERE name = ?", arguments: [name])
            .map { ($0["alias"] as String, $0["version"] as Int) })
    }

    public static func version(_ tx: StoreTransaction, _ name: String, alias: ModelAlias) throws -> Int? {
        try Int.fetchOne(tx.db, sql: "SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?", arguments: [name, alias.rawValue])
    }

    /// The first model, by name, that has a champion.
    public static func firstServedModel(_ tx: StoreTransaction) throws -> String? {
        try String.fetchOne(tx.db, sql: "SELECT name FROM registered_model_aliases WHERE alias = 'champion' ORDER BY name LIMIT 1")
    }

    /// Every model's champion, as serving routes by it.
    public static func champions(_ tx: StoreTransaction) throws -> [(model: String, version: Int)] {
        try Row.fetchAll(tx.db, sql: "SELECT name, version FROM registered_model_aliases WHERE alias = 'champion' ORDER BY name")
            .map { ($0["name"], $0["version"]) }
    }

    /// Moves an alias, with its audit row; returns the version it pointed at before. Unguarded:
    /// the rollouts call it inside their transitions; other doors go through `moveAliasOnRequest`.
    @discardableResult
    public static func moveAlias(_ tx: StoreTransaction, _ name: String, _ alias: ModelAlias, to version: Int, reason: String, now: Int64) throws -> Int? {
        let previous = try self.version(tx, name, alias: alias)
        guard previous != version else { return previous }
        try tx.db.execute(sql: """
            INSERT INTO registered_model_aliases (name, alias, version) VALUES (?, ?, ?)
            ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version
            """, arguments: [name, alias.rawValue, version])
        try tx.db.execute(sql: "UPDATE registered_models SET last_updated_time = ? WHERE name = ?", arguments: [now, name])
        try AuditLog.record(tx, entityType: "alias", entityID: "\(name)@\(alias)", action: "move",
                            from: previous.map(String.init), to: String(version), detail: reason)
        return previous
    }

    /// Removes an alias, with its audit row; nil if it was not set.
    @discardableResult
    public static func removeAlias(_ tx: StoreTransaction, _ name: String, _ alias: ModelAlias, reason: String) throws -> Int? {
        guard let previous = try version(tx, name, alias: alias) else { return nil }
        try tx.db.execute(sql: "DELETE FROM registered_model_aliases WHERE name = ? AND alias = ?", arguments: [name, alias.rawValue])
        try AuditLog.record(tx, entityType: "alias", entityID: "\(name)@\(alias)", action: "remove", from: String(previous), detail: reason)
        return previous
    }

    /// A door's request to move an alias: refused for champion, challenger and previous while a
    /// rollout holds them.
    @discardableResult
    public static func moveAliasOnRequest(_ tx: StoreTransaction, _ name: String, _ alias: ModelAlias, to version: Int, reason: String, now: Int64) throws -> Int? {
        try ServedVersions(tx.db, model: name).refuseMove(of: alias)
        return try moveAlias(tx, name, alias, to: version, reason: reason, now: now)
    }

    /// A door's request to remove an alias, under the same rule.
    @discardableResult
    public static func removeAliasOnRequest(_ tx: StoreTransaction, _ name: String, _ alias: ModelAlias, reason: String) throws -> Int? {
        try ServedVersions(tx.db, model: name).refuseMove(of: alias)
        return try removeAlias(tx, name, alias, reason: reason)
    }

    /// Every move of every alias of `name`, oldest first.
    public static func aliasHistory(_ tx: StoreTransaction, _ name: String) throws -> [(alias: String, entry: AuditLog.Entry)] {
        try Row.fetchAll(tx.db, sql: """
            SELECT entity_id, time, actor, action, from_state, to_state, detail FROM audit_log
            WHERE entity_type = 'alias' AND entity_id LIKE ? ORDER BY id
            """, arguments: ["\(name)@%"]).map { row in
            let entity: String = row["entity_id"]
            return (String(entity.dropFirst(name.count + 1)),
                    AuditLog.Entry(time: row["time"], actor: row["actor"], action: row["action"], from_state: row["from_state"],
                                   to_state: row["to_state"], detail: row["detail"]))
        }
    }

    // MARK: Deleting and renaming

    /// Deletes a version's row, tags and aliases (each audited); refused while it is served or in
    /// a rollout in flight. The caller removes its files once this has committed.
    public static func deleteVersion(_ tx: StoreTransaction, _ found: ModelVersion, reason: String) throws {
        let db = tx.db, name = found.name, version = found.version
        try ServedVersions(db, model: name).refuseChange(of: version, "delete")
        for alias in try String.fetchAll(db, sql: "SELECT alias FROM registered_model_aliases WHERE name = ? AND version = ? ORDER BY alias",
                                         arguments: [name, version]) {
            try removeAlias(tx, name, ModelAlias(rawValue: alias), reason: "\(found.reference) deleted: \(reason)")
        }
        try db.execute(sql: "DELETE FROM model_version_tags WHERE name = ? AND version = ?", arguments: [name, version])
        try db.execute(sql: "DELETE FROM model_versions WHERE name = ? AND version = ?", arguments: [name, version])
        try AuditLog.record(tx, entityType: "model_version", entityID: found.reference, action: "delete", from: found.status.rawValue, detail: reason)
    }

    /// Deletes a model with every version, alias and tag; refused while any version is protected.
    public static func deleteModel(_ tx: StoreTransaction, _ name: String, reason: String) throws {
        let db = tx.db
        try requireModel(tx, name)
        try ServedVersions(db, model: name).refuseModelChange("delete")
        for alias in try String.fetchAll(db, sql: "SELECT alias FROM registered_model_aliases WHERE name = ? ORDER BY alias", arguments: [name]) {
            try removeAlias(tx, name, ModelAlias(rawValue: alias), reason: "model \(name) deleted: \(reason)")
        }
        for table in ["model_version_tags", "model_versions", "registered_model_tags", "registered_models"] {
            try db.execute(sql: "DELETE FROM \(table) WHERE name = ?", arguments: [name])
        }
        try AuditLog.record(tx, entityType: "registered_model", entityID: name, action: "delete", detail: reason)
    }

    /// Renames a model; refused while any version is protected, since rollouts and predictions
    /// are keyed by its name.
    public static func renameModel(_ tx: StoreTransaction, _ name: String, to newName: String, now: Int64) throws {
        try requireModel(tx, name)
        try ServedVersions(tx.db, model: name).refuseModelChange("rename")
        if try modelExists(tx, newName) { throw RegistryError("a registered model named \(newName) already exists") }
        try tx.db.execute(sql: "UPDATE registered_models SET name = ?, last_updated_time = ? WHERE name = ?", arguments: [newName, now, name])
        try AuditLog.record(tx, entityType: "registered_model", entityID: name, action: "rename", to: newName)
    }

    private static func requireModel(_ tx: StoreTransaction, _ name: String) throws {
        guard try modelExists(tx, name) else { throw RegistryError("no registered model '\(name)'") }
    }
}

import Foundation
import GRDB

/// Registered models, their immutable versions and the aliases (`champion`, `challenger`, …) that
/// point at them. A version's number is reserved in a transaction, its files are copied through a
/// temporary folder and renamed into place, and only then is it READY: an alias never points at a
/// version that is not whole.
public struct ModelRegistry: Sendable {
    public let store: Store
    public let directory: String

    public init(store: Store, directory: String) {
        self.store = store
        self.directory = directory
    }

    public typealias RegistryError = MLOpsStore.RegistryError

    /// `NAME`, `NAME@ALIAS` or `NAME/VERSION`.
    public struct Reference: Sendable, Hashable, CustomStringConvertible {
        public var name: String
        public var alias: String?
        public var version: Int?

        public init(parsing text: String) throws(RegistryError) {
            if let at = text.firstIndex(of: "@") {
                name = String(text[..<at])
                alias = String(text[text.index(after: at)...])
            } else if let slash = text.firstIndex(of: "/") {
                name = String(text[..<slash])
                guard let v = Int(text[text.index(after: slash)...]), v > 0 else {
                    throw RegistryError("'\(text)': a version is a positive number, as in \(name)/3")
                }
                version = v
            } else {
                name = text
            }
            guard ModelRegistry.validName(name), alias.map(ModelRegistry.validName) ?? true else {
                throw RegistryError("'\(text)' is not NAME, NAME@ALIAS or NAME/VERSION (names: letters, digits, '-', '_', '.')")
            }
        }

        public var description: String { name + (alias.map { "@\($0)" } ?? "") + (version.map { "/\($0)" } ?? "") }
    }

    static func validName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) }
    }

    // MARK: Registering

    /// Registers the files of `folder` as the next version of `name`, produced by `runID`.
    public func register(name: String, from folder: String, runID: String?, tags: [String: String] = [:]) throws -> ModelVersion {
        guard Self.validName(name) else { throw RegistryError("'\(name)' is not a model name (letters, digits, '-', '_', '.')") }
        let sourceFiles = try Self.listFiles(folder)
        guard !sourceFiles.isEmpty else { throw RegistryError("\(folder) holds no files to register") }
        let now = Store.nowMillis()
        let version: Int = try store.database.write { db in
            try db.execute(sql: """
                INSERT INTO registered_models (name, creation_time, last_updated_time) VALUES (?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET last_updated_time = excluded.last_updated_time
                """, arguments: [name, now, now])
            let next = (try Int.fetchOne(db, sql: "SELECT MAX(version) FROM model_versions WHERE name = ?", arguments: [name]) ?? 0) + 1
            try db.execute(sql: """
                INSERT INTO model_versions (name, version, status, source_run_id, source, storage_location, creation_time, last_updated_time)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [name, next, ModelVersion.Status.pendingRegistration.rawValue, runID, folder,
                                 "\(directory)/\(name)/\(next)", now, now])
            for (key, value) in tags {
                try db.execute(sql: "INSERT INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?)", arguments: [name, next, key, value])
            }
            try AuditLog.record(db, entityType: "model_version", entityID: "\(name)/\(next)", action: "reserve", to: "PENDING_REGISTRATION", detail: runID)
            return next
        }
        let destination = "\(directory)/\(name)/\(version)"
        let temporary = "\(directory)/\(name)/.incoming-\(version)-\(UUID().uuidString.prefix(8))"
        do {
            let manager = FileManager.default
            try manager.createDirectory(atPath: temporary, withIntermediateDirectories: true)
            var files: [ModelVersion.File] = []
            for relative in sourceFiles {
                let target = "\(temporary)/\(relative)"
                try manager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try manager.copyItem(atPath: "\(folder)/\(relative)", toPath: target)
                let data = try Data(contentsOf: URL(fileURLWithPath: target))
                files.append(.init(path: relative, sha256: SHA256Digest.hex(of: data), size: data.count))
            }
            guard rename(temporary, destination) == 0 else {
                throw RegistryError("cannot move the version into \(destination): \(String(cString: strerror(errno)))")
            }
            let digest = Self.digest(files)
            let filesJSON = String(decoding: try JSONEncoder().encode(files), as: UTF8.self)
            try store.database.write { db in
                try db.execute(sql: """
                    UPDATE model_versions SET status = ?, sha256 = ?, files = ?, last_updated_time = ? WHERE name = ? AND version = ?
                    """, arguments: [ModelVersion.Status.ready.rawValue, digest, filesJSON, Store.nowMillis(), name, version])
                try AuditLog.record(db, entityType: "model_version", entityID: "\(name)/\(version)", action: "register",
                                    from: "PENDING_REGISTRATION", to: "READY", detail: digest)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            try? store.database.write { db in
                try db.execute(sql: "UPDATE model_versions SET status = ? WHERE name = ? AND version = ?",
                               arguments: [ModelVersion.Status.failedRegistration.rawValue, name, version])
                try AuditLog.record(db, entityType: "model_version", entityID: "\(name)/\(version)", action: "register",
                                    from: "PENDING_REGISTRATION", to: "FAILED_REGISTRATION", detail: "\(error)")
            }
            throw error
        }
        return try self.version(name, version)
    }

    static func listFiles(_ folder: String) throws -> [String] {
        guard let files = FolderFiles.list(folder, skippingHidden: true) else { throw RegistryError("no folder \(folder)") }
        return files
    }

    static func digest(_ files: [ModelVersion.File]) -> String {
        SHA256Digest.hex(of: Data(files.sorted { $0.path < $1.path }.map { "\($0.path) \($0.sha256)\n" }.joined().utf8))
    }

    // MARK: Reading

    public func version(_ name: String, _ version: Int) throws -> ModelVersion {
        guard let found = try store.database.read({ db in
            try ModelVersion.fetchOne(db, sql: "SELECT * FROM model_versions WHERE name = ? AND version = ?", arguments: [name, version])
        }) else {
            throw RegistryError("model \(name) has no version \(version)")
        }
        return found
    }

    /// The version a reference names; a bare name means its `champion`, else its latest version.
    public func resolve(_ reference: Reference) throws -> ModelVersion {
        guard try store.database.read({ try Bool.fetchOne($0, sql: "SELECT 1 FROM registered_models WHERE name = ?", arguments: [reference.name]) }) == true else {
            let names = try models().map(\.name)
            throw RegistryError("no registered model '\(reference.name)'" + (Suggestion.hint(for: reference.name, in: names).map { "; \($0)" } ?? ""))
        }
        if let version = reference.version { return try self.version(reference.name, version) }
        let aliases = try self.aliases(reference.name)
        if let alias = reference.alias {
            guard let version = aliases[alias] else {
                throw RegistryError("model \(reference.name) has no alias '\(alias)'" + (aliases.isEmpty ? "" : " (aliases: \(aliases.keys.sorted().joined(separator: ", ")))"))
            }
            return try self.version(reference.name, version)
        }
        if let champion = aliases["champion"] { return try self.version(reference.name, champion) }
        guard let latest = try store.database.read({
            try Int.fetchOne($0, sql: "SELECT MAX(version) FROM model_versions WHERE name = ? AND status = 'READY'", arguments: [reference.name])
        }) else { throw RegistryError("model \(reference.name) has no ready version") }
        return try version(reference.name, latest)
    }

    public func aliases(_ name: String) throws -> [String: Int] {
        try store.database.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT alias, version FROM registered_model_aliases WHERE name = ?", arguments: [name])
                .map { ($0["alias"] as String, $0["version"] as Int) })
        }
    }

    public struct Summary: Sendable, Hashable {
        public var name: String
        public var latestVersion: Int?
        public var versions: Int
        public var aliases: [String: Int]
        public var lastUpdated: Int64
    }

    public func models() throws -> [Summary] {
        try store.database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT m.name, m.last_updated_time, MAX(v.version) AS latest, COUNT(v.version) AS versions
                FROM registered_models m LEFT JOIN model_versions v ON v.name = m.name GROUP BY m.name ORDER BY m.name
                """).map { row in
                let name: String = row["name"]
                let aliases = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT alias, version FROM registered_model_aliases WHERE name = ?", arguments: [name])
                    .map { ($0["alias"] as String, $0["version"] as Int) })
                return Summary(name: name, latestVersion: row["latest"], versions: row["versions"], aliases: aliases, lastUpdated: row["last_updated_time"])
            }
        }
    }

    public func versions(_ name: String) throws -> [ModelVersion] {
        try store.database.read { db in
            try ModelVersion.fetchAll(db, sql: "SELECT * FROM model_versions WHERE name = ? ORDER BY version", arguments: [name])
        }
    }

    // MARK: Aliases

    /// Points `alias` at `version`, with an audit row saying from which version and why; returns
    /// the version it pointed at before. Every door (the CLI, a stage, the MLflow API) comes here;
    /// champion, challenger and previous are refused while a rollout holds them.
    @discardableResult
    public func setAlias(_ name: String, _ alias: ModelAlias, to version: Int, reason: String) throws -> Int? {
        guard Self.validName(alias.rawValue) else { throw RegistryError("'\(alias)' is not an alias name (letters, digits, '-', '_', '.')") }
        let target = try self.version(name, version)
        guard target.status == .ready else { throw RegistryError("\(target.reference) is \(target.status.rawValue), not READY; an alias points only at a whole version") }
        try verify(target)
        return try store.database.write { db in
            try ServedVersions(db, model: name).refuseMove(of: alias)
            return try Self.moveAlias(db, name, alias, to: version, reason: reason)
        }
    }

    /// Removes `alias`, audited; refused for the rollouts' aliases while a rollout holds them.
    /// Returns the version it pointed at, nil when it was not set.
    @discardableResult
    public func removeAlias(_ name: String, _ alias: ModelAlias, reason: String) throws -> Int? {
        try store.database.write { db in
            try ServedVersions(db, model: name).refuseMove(of: alias)
            return try Self.removeAlias(db, name, alias, reason: reason)
        }
    }

    /// Moves an alias inside the caller's transaction (a rollout's transition moves `champion` in
    /// the same transaction as its own state), with its audit row.
    @discardableResult
    static func moveAlias(_ db: Database, _ name: String, _ alias: ModelAlias, to version: Int, reason: String) throws -> Int? {
        let previous = try Int.fetchOne(db, sql: "SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?", arguments: [name, alias.rawValue])
        guard previous != version else { return previous }
        try db.execute(sql: """
            INSERT INTO registered_model_aliases (name, alias, version) VALUES (?, ?, ?)
            ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version
            """, arguments: [name, alias.rawValue, version])
        try db.execute(sql: "UPDATE registered_models SET last_updated_time = ? WHERE name = ?", arguments: [Store.nowMillis(), name])
        try AuditLog.record(db, entityType: "alias", entityID: "\(name)@\(alias)", action: "move",
                            from: previous.map(String.init), to: String(version), detail: reason)
        return previous
    }

    /// Removes an alias inside the caller's transaction, with its audit row; nothing if it is not set.
    @discardableResult
    static func removeAlias(_ db: Database, _ name: String, _ alias: ModelAlias, reason: String) throws -> Int? {
        guard let previous = try Int.fetchOne(db, sql: "SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?", arguments: [name, alias.rawValue]) else { return nil }
        try db.execute(sql: "DELETE FROM registered_model_aliases WHERE name = ? AND alias = ?", arguments: [name, alias.rawValue])
        try AuditLog.record(db, entityType: "alias", entityID: "\(name)@\(alias)", action: "remove", from: String(previous), detail: reason)
        return previous
    }

    // MARK: Deleting

    /// Deletes a version: its aliases (each audited), tags and row in one transaction, then its
    /// files. Refused while the version is served or part of a rollout in flight.
    public func deleteVersion(_ name: String, _ version: Int, reason: String) throws {
        let found = try self.version(name, version)
        try store.database.write { db in
            try ServedVersions(db, model: name).refuseChange(of: version, "delete")
            for alias in try String.fetchAll(db, sql: "SELECT alias FROM registered_model_aliases WHERE name = ? AND version = ? ORDER BY alias",
                                             arguments: [name, version]) {
                try Self.removeAlias(db, name, ModelAlias(rawValue: alias), reason: "\(name)/\(version) deleted: \(reason)")
            }
            try db.execute(sql: "DELETE FROM model_version_tags WHERE name = ? AND version = ?", arguments: [name, version])
            try db.execute(sql: "DELETE FROM model_versions WHERE name = ? AND version = ?", arguments: [name, version])
            try AuditLog.record(db, entityType: "model_version", entityID: found.reference, action: "delete",
                                from: found.status.rawValue, detail: reason)
        }
        try? FileManager.default.removeItem(atPath: found.storageLocation)
    }

    /// Deletes a model with every version, alias and tag; refused while any version is protected.
    public func deleteModel(_ name: String, reason: String) throws {
        try store.database.write { db in
            try requireModel(db, name)
            try ServedVersions(db, model: name).refuseModelChange("delete")
            for alias in try String.fetchAll(db, sql: "SELECT alias FROM registered_model_aliases WHERE name = ? ORDER BY alias", arguments: [name]) {
                try Self.removeAlias(db, name, ModelAlias(rawValue: alias), reason: "model \(name) deleted: \(reason)")
            }
            for table in ["model_version_tags", "model_versions", "registered_model_tags", "registered_models"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE name = ?", arguments: [name])
            }
            try AuditLog.record(db, entityType: "registered_model", entityID: name, action: "delete", detail: reason)
        }
        try? FileManager.default.removeItem(atPath: "\(directory)/\(name)")
    }

    /// Renames a model; refused while any version is protected, since rollouts and predictions
    /// are keyed by its name.
    public func renameModel(_ name: String, to newName: String) throws {
        guard Self.validName(newName) else { throw RegistryError("'\(newName)' is not a model name (letters, digits, '-', '_', '.')") }
        try store.database.write { db in
            try requireModel(db, name)
            try ServedVersions(db, model: name).refuseModelChange("rename")
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM registered_models WHERE name = ?", arguments: [newName]) == true {
                throw RegistryError("a registered model named \(newName) already exists")
            }
            try db.execute(sql: "UPDATE registered_models SET name = ?, last_updated_time = ? WHERE name = ?", arguments: [newName, Store.nowMillis(), name])
            try AuditLog.record(db, entityType: "registered_model", entityID: name, action: "rename", to: newName)
        }
    }

    private func requireModel(_ db: Database, _ name: String) throws {
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM registered_models WHERE name = ?", arguments: [name]) == true else {
            throw RegistryError("no registered model '\(name)'")
        }
    }

    /// Sets a tag on a version inside the caller's transaction.
    static func tag(_ db: Database, _ name: String, _ version: Int, _ key: String, _ value: String) throws {
        try db.execute(sql: """
            INSERT INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?)
            ON CONFLICT (name, version, key) DO UPDATE SET value = excluded.value
            """, arguments: [name, version, key, value])
        try AuditLog.record(db, entityType: "model_version", entityID: "\(name)/\(version)", action: "tag", to: "\(key)=\(value)")
    }

    public func tag(_ name: String, _ version: Int, _ tags: [String: String]) throws {
        _ = try self.version(name, version)
        try store.database.write { db in
            for (key, value) in tags.sorted(by: { $0.key < $1.key }) { try Self.tag(db, name, version, key, value) }
        }
    }

    /// The version registered from the run `runID`, if any: how a gate finds the candidate it judged.
    public func version(registeredFrom runID: String, name: String) throws -> ModelVersion? {
        try store.database.read { db in
            try ModelVersion.fetchOne(db, sql: "SELECT * FROM model_versions WHERE name = ? AND source_run_id = ? ORDER BY version DESC LIMIT 1",
                                      arguments: [name, runID])
        }
    }

    /// Every move of every alias of `name`, oldest first.
    public func aliasHistory(_ name: String) throws -> [(alias: String, entry: AuditLog.Entry)] {
        try store.database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT entity_id, time, actor, action, from_state, to_state, detail FROM audit_log
                WHERE entity_type = 'alias' AND entity_id LIKE ? ORDER BY id
                """, arguments: ["\(name)@%"]).map { row in
                let entity: String = row["entity_id"]
                return (String(entity.dropFirst(name.count + 1)),
                        AuditLog.Entry(time: row["time"], actor: row["actor"], action: row["action"], from_state: row["from_state"],
                                       to_state: row["to_state"], detail: row["detail"]))
            }
        }
    }

    // MARK: Integrity

    /// Refuses a version whose files are missing or no longer match their checksums.
    public func verify(_ version: ModelVersion) throws {
        for file in version.files {
            let path = "\(version.storageLocation)/\(file.path)"
            guard let data = FileManager.default.contents(atPath: path) else {
                throw RegistryError("\(version.reference): \(path) is missing; the version is damaged and will not be used")
            }
            let actual = SHA256Digest.hex(of: data)
            guard actual == file.sha256 else {
                throw RegistryError("\(version.reference): \(file.path) has sha256 \(actual.prefix(12))…, registered as \(file.sha256.prefix(12))…; the file was changed after registration and will not be used")
            }
        }
    }
}

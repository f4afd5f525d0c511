import Foundation
import GRDB
import MLOpsCore

/// MLflow's model registry endpoints on our registry: the versions `mlops models` lists, with
/// their aliases (the champion a rollout moves). A version created from a source URI is copied into
/// the registry with its checksums, as `mlops models register` does; its files are downloaded
/// through the artifact proxy at `mlflow-artifacts:/_registry/NAME/VERSION`.
struct MLflowRegistry: Sendable {
    let service: MLflowService
    let registry: ModelRegistry
    /// Resolves `mlflow-artifacts:/` sources to files on this machine.
    let artifacts: MLflowArtifacts
    var store: Store { service.store }

    func modelRow(_ db: Database, _ name: String) throws -> Row {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM registered_models WHERE name = ?", arguments: [name]) else {
            throw MLflowError(.resourceDoesNotExist, "Registered Model with name=\(name) not found")
        }
        return row
    }

    func versionNumber(_ f: MLflowFields) throws -> Int {
        let text = try f.required("version")
        guard let number = Int(text) else { throw MLflowError.invalid("version", text, "a version is a whole number") }
        return number
    }

    func versionRow(_ db: Database, _ name: String, _ version: Int) throws -> Row {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM model_versions WHERE name = ? AND version = ?", arguments: [name, version]) else {
            throw MLflowError(.resourceDoesNotExist, "Model Version (name=\(name), version=\(version)) not found")
        }
        return row
    }

    func versionObject(_ db: Database, _ row: Row) throws -> [String: Any] {
        let name: String = row["name"], version: Int = row["version"]
        let tags = try Row.fetchAll(db, sql: "SELECT key, value FROM model_version_tags WHERE name = ? AND version = ? ORDER BY key", arguments: [name, version])
        let aliases = try String.fetchAll(db, sql: "SELECT alias FROM registered_model_aliases WHERE name = ? AND version = ? ORDER BY alias", arguments: [name, version])
        var object: [String: Any] = [
            "name": name, "version": String(version), "creation_timestamp": row["creation_time"] as Int64,
            "last_updated_timestamp": row["last_updated_time"] as Int64, "current_stage": row["current_stage"] as String,
            "status": row["status"] as String, "source": (row["source"] as String?) ?? "",
            "tags": tags.map(MLflowEntities.keyValue), "aliases": aliases,
        ]
        if let run = row["source_run_id"] as String? { object["run_id"] = run }
        if let model = row["model_id"] as String? { object["model_id"] = model }
        if let description = row["description"] as String? { object["description"] = description }
        if let link = row["run_link"] as String? { object["run_link"] = link }
        return object
    }

    func modelObject(_ db: Database, _ row: Row) throws -> [String: Any] {
        let name: String = row["name"]
        let tags = try Row.fetchAll(db, sql: "SELECT key, value FROM registered_model_tags WHERE name = ? ORDER BY key", arguments: [name])
        let aliases = try Row.fetchAll(db, sql: "SELECT alias, version FROM registered_model_aliases WHERE name = ? ORDER BY alias", arguments: [name])
        let latest = try latestVersionRows(db, name)
        var object: [String: Any] = [
            "name": name, "creation_timestamp": row["creation_time"] as Int64, "last_updated_timestamp": row["last_updated_time"] as Int64,
            "tags": tags.map(MLflowEntities.keyValue),
            "aliases": aliases.map { ["alias": $0["alias"] as String, "version": String($0["version"] as Int)] },
            "latest_versions": try latest.map { try versionObject(db, $0) },
        ]
        if let description = row["description"] as String? { object["description"] = description }
        return object
    }

    /// The newest version in each stage (MLflow's "latest versions").
    func latestVersionRows(_ db: Database, _ name: String) throws -> [Row] {
        try Row.fetchAll(db, sql: """
            SELECT * FROM model_versions v WHERE name = ? AND version = (SELECT MAX(version) FROM model_versions w WHERE w.name = v.name AND w.current_stage = v.current_stage)
            ORDER BY version
            """, arguments: [name])
    }

    // MARK: Registered models

    func createModel(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name")
        let tags = try f.keyValues("tags")
        let description = try f.string("description")
        let now = Store.nowMillis()
        return try store.database.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM registered_models WHERE name = ?", arguments: [name]) == true {
                throw MLflowError(.resourceAlreadyExists, "Registered Model (name=\(name)) already exists.")
            }
            try db.execute(sql: "INSERT INTO registered_models (name, description, creation_time, last_updated_time) VALUES (?, ?, ?, ?)",
                           arguments: [name, description, now, now])
            for (key, value) in tags {
                try db.execute(sql: "INSERT OR REPLACE INTO registered_model_tags (name, key, value) VALUES (?, ?, ?)", arguments: [name, key, value])
            }
            try AuditLog.record(db, entityType: "registered_model", entityID: name, action: "create")
            return ["registered_model": try modelObject(db, try modelRow(db, name))]
        }
    }

    func getModel(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name")
        return try store.database.read { db in ["registered_model": try modelObject(db, try modelRow(db, name))] }
    }

    func updateModel(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name")
        let description = try f.string("description")
        return try store.database.write { db in
            _ = try modelRow(db, name)
            try db.execute(sql: "UPDATE registered_models SET description = ?, last_updated_time = ? WHERE name = ?", arguments: [description, Store.nowMillis(), name])
            return ["registered_model": try modelObject(db, try modelRow(db, name))]
        }
    }

    func renameModel(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), newName = try f.required("new_name")
        try store.database.read { db in
            _ = try modelRow(db, name)
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM registered_models WHERE name = ?", arguments: [newName]) == true {
                throw MLflowError(.resourceAlreadyExists, "Registered Model (name=\(newName)) already exists.")
            }
        }
        try registry.renameModel(name, to: newName)
        return try store.database.read { db in ["registered_model": try modelObject(db, try modelRow(db, newName))] }
    }

    func deleteModel(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name")
        try store.database.read { db in _ = try modelRow(db, name) }
        try registry.deleteModel(name, reason: "deleted through the MLflow API")
        return [:]
    }

    func searchModels(_ f: MLflowFields) throws -> [String: Any] {
        let (clause, args) = try Self.nameFilter(try f.string("filter"), column: "name")
        return try service.page(f, default: 100, limit: 10_000, key: "registered_models",
                                sql: "SELECT * FROM registered_models WHERE \(clause) ORDER BY name", args, object: modelObject)
    }

    func latestVersions(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name")
        let stages = try f.strings("stages")
        return try store.database.read { db in
            _ = try modelRow(db, name)
            let rows = try latestVersionRows(db, name)
            let wanted = Set(stages.map { $0.lowercased() })
            return ["model_versions": try rows.filter { wanted.isEmpty || wanted.contains(($0["current_stage"] as String).lowercased()) }.map { try versionObject(db, $0) }]
        }
    }

    func setModelTag(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), key = try f.required("key"), value = try f.string("value") ?? ""
        try MLflowService.validateTag(key, value)
        try store.database.write { db in
            _ = try modelRow(db, name)
            try db.execute(sql: "INSERT OR REPLACE INTO registered_model_tags (name, key, value) VALUES (?, ?, ?)", arguments: [name, key, value])
        }
        return [:]
    }

    func deleteModelTag(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), key = try f.required("key")
        try store.database.write { db in
            _ = try modelRow(db, name)
            try db.execute(sql: "DELETE FROM registered_model_tags WHERE name = ? AND key = ?", arguments: [name, key])
        }
        return [:]
    }

    func setAlias(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), alias = try f.required("alias"), version = try versionNumber(f)
        try store.database.read { db in _ = try versionRow(db, name, version) }
        _ = try registry.setAlias(name, ModelAlias(rawValue: alias), to: version, reason: "set through the MLflow API")
        return [:]
    }

    func deleteAlias(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), alias = try f.required("alias")
        try store.database.read { db in _ = try modelRow(db, name) }
        try registry.removeAlias(name, ModelAlias(rawValue: alias), reason: "deleted through the MLflow API")
        return [:]
    }

    func versionByAlias(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), alias = try f.required("alias")
        return try store.database.read { db in
            guard let version = try Int.fetchOne(db, sql: "SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?", arguments: [name, alias]) else {
                throw MLflowError(.resourceDoesNotExist, "Registered model alias \(alias) not found.")
            }
            return ["model_version": try versionObject(db, try versionRow(db, name, version))]
        }
    }
}

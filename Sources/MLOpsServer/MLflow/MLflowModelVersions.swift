import Foundation
import GRDB
import MLOpsCore

/// Model versions through MLflow's API, and the search and paging the registry endpoints share.
extension MLflowRegistry {
    func createVersion(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), source = try f.required("source")
        var runID = try f.string("run_id").flatMap { $0.isEmpty ? nil : $0 }
        let tags = try f.keyValues("tags")
        let sourceModel = Self.loggedModelID(source)
        let modelID = try f.string("model_id").flatMap { $0.isEmpty ? nil : $0 } ?? sourceModel
        if let sourceModel, sourceModel != modelID {
            throw MLflowError.invalid("source", source, "it names logged model \(sourceModel) but model_id is \(modelID ?? "")")
        }
        try store.database.read { db in
            _ = try modelRow(db, name)
            if let modelID {
                guard let row = try Row.fetchOne(db, sql: "SELECT source_run_id FROM logged_models WHERE model_id = ? AND lifecycle_stage = 'active'", arguments: [modelID]) else {
                    throw MLflowError(.resourceDoesNotExist, "Logged model with ID '\(modelID)' not found.")
                }
                // The version's lineage: the run that logged the model, when the client names none.
                runID = runID ?? row["source_run_id"]
            }
        }
        let folder = try localFolder(source, runID: runID)
        let created = try registry.register(name: name, from: folder, runID: runID, tags: tags)
        return try store.database.write { db in
            try db.execute(sql: "UPDATE model_versions SET source = ?, run_link = ?, description = ?, model_id = ? WHERE name = ? AND version = ?",
                           arguments: [source, try f.string("run_link"), try f.string("description"), modelID, name, created.version])
            if let modelID { try MLflowLoggedModels.recordRegistration(db, modelID: modelID, name: name, version: created.version) }
            return ["model_version": try versionObject(db, try versionRow(db, name, created.version))]
        }
    }

    /// `models:/m-…` (a logged model) as its id.
    static func loggedModelID(_ source: String) -> String? {
        guard source.hasPrefix("models:/m-") else { return nil }
        let id = source.dropFirst("models:/".count)
        return id.contains("/") ? nil : String(id)
    }

    /// The folder on this machine that a source URI names: `runs:/RUN/PATH`, `mlflow-artifacts:/…`,
    /// `file://…` or a path. Its files are copied into the registry with their checksums.
    func localFolder(_ source: String, runID: String?) throws -> String {
        var uri = source
        if let modelID = Self.loggedModelID(source) {
            uri = try store.database.read { db in
                try String.fetchOne(db, sql: "SELECT artifact_location FROM logged_models WHERE model_id = ?", arguments: [modelID])
            } ?? ""
        } else if uri.hasPrefix("models:/") {
            // Another registered version (`models:/NAME/VERSION`): its checksummed copy.
            let parts = uri.dropFirst("models:/".count).split(separator: "/")
            guard parts.count == 2, let version = Int(parts[1]) else {
                throw MLflowError.invalid("source", source, "use models:/m-MODEL_ID or models:/NAME/VERSION")
            }
            try store.database.read { db in _ = try versionRow(db, String(parts[0]), version) }
            return "\(registry.directory)/\(parts[0])/\(version)"
        }
        if uri.hasPrefix("runs:/") {
            let rest = uri.dropFirst("runs:/".count).split(separator: "/", maxSplits: 1)
            guard let run = rest.first else { throw MLflowError.invalid("source", source, "runs:/ needs a run id") }
            let artifactURI = try store.database.read { db in try service.runRecord(db, String(run)).artifactURI } ?? ""
            uri = artifactURI + (rest.count > 1 ? "/" + rest[1] : "")
        }
        if let path = MLflowArtifacts.proxiedPath(uri) {
            return try artifacts.resolve(MLflowArtifacts.pathComponents(path))
        }
        if uri.hasPrefix("file://") { uri = String(uri.dropFirst("file://".count)) }
        guard uri.hasPrefix("/") else {
            throw MLflowError(.invalidParameterValue, "Cannot register '\(source)': mlops keeps a checksummed copy of a version's files and reads models:/, runs:/, mlflow-artifacts:/ and local paths")
        }
        return uri
    }

    func getVersion(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), version = try versionNumber(f)
        return try store.database.read { db in ["model_version": try versionObject(db, try versionRow(db, name, version))] }
    }

    func updateVersion(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), version = try versionNumber(f)
        let description = try f.string("description")
        return try store.database.write { db in
            _ = try versionRow(db, name, version)
            try db.execute(sql: "UPDATE model_versions SET description = ?, last_updated_time = ? WHERE name = ? AND version = ?",
                           arguments: [description, Store.nowMillis(), name, version])
            return ["model_version": try versionObject(db, try versionRow(db, name, version))]
        }
    }

    func deleteVersion(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), version = try versionNumber(f)
        try store.database.read { db in _ = try versionRow(db, name, version) }
        try registry.deleteVersion(name, version, reason: "deleted through the MLflow API")
        return [:]
    }

    func setVersionTag(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), version = try versionNumber(f), key = try f.required("key"), value = try f.string("value") ?? ""
        try MLflowService.validateTag(key, value)
        try store.database.write { db in
            _ = try versionRow(db, name, version)
            try db.execute(sql: "INSERT OR REPLACE INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?)", arguments: [name, version, key, value])
        }
        return [:]
    }

    func deleteVersionTag(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), version = try versionNumber(f), key = try f.required("key")
        try store.database.write { db in
            _ = try versionRow(db, name, version)
            try db.execute(sql: "DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?", arguments: [name, version, key])
        }
        return [:]
    }

    /// MLflow's deprecated stages, recorded for its clients; mlops routes by aliases.
    func transitionStage(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), version = try versionNumber(f), stage = try f.required("stage")
        let stages = ["None", "Staging", "Production", "Archived"]
        guard let canonical = stages.first(where: { $0.lowercased() == stage.lowercased() }) else {
            throw MLflowError.invalid("stage", stage, "use None, Staging, Production or Archived")
        }
        let archive = try f.bool("archive_existing_versions") ?? false
        return try store.database.write { db in
            _ = try versionRow(db, name, version)
            let now = Store.nowMillis()
            if archive, canonical == "Staging" || canonical == "Production" {
                try db.execute(sql: "UPDATE model_versions SET current_stage = 'Archived', last_updated_time = ? WHERE name = ? AND current_stage = ? AND version != ?",
                               arguments: [now, name, canonical, version])
            }
            try db.execute(sql: "UPDATE model_versions SET current_stage = ?, last_updated_time = ? WHERE name = ? AND version = ?", arguments: [canonical, now, name, version])
            try AuditLog.record(db, entityType: "model_version", entityID: "\(name)/\(version)", action: "stage", to: canonical)
            return ["model_version": try versionObject(db, try versionRow(db, name, version))]
        }
    }

    func downloadURI(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), version = try versionNumber(f)
        try store.database.read { db in _ = try versionRow(db, name, version) }
        return ["artifact_uri": "mlflow-artifacts:/\(MLflowArtifacts.registryPrefix)/\(name)/\(version)"]
    }

    func searchVersions(_ f: MLflowFields) throws -> [String: Any] {
        var clauses: [String] = []
        var args: [any DatabaseValueConvertible] = []
        let text = try f.string("filter")
        if let filter = try MLflowFilterSQL.parse(text, Self.versionVocabulary) {
            for c in filter.comparisons {
                switch c.entity {
                case .attribute:
                    clauses.append(MLflowFilterSQL.compare(c, column: c.key == "run_id" ? "source_run_id" : c.key, args: &args))
                case .tag:
                    clauses.append(MLflowFilterSQL.keyValue(c, table: "model_version_tags", match: "t.name = model_versions.name AND t.version = model_versions.version", args: &args))
                default:
                    throw MLflowError(.invalidParameterValue, "Invalid filter '\(text ?? "")': filter model versions on name, run_id, source, version or tags.KEY")
                }
            }
        }
        let sql = "SELECT * FROM model_versions\(clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")) ORDER BY name, version DESC"
        return try service.page(f, default: 100, limit: 10_000, key: "model_versions", sql: sql, StatementArguments(args), object: versionObject)
    }

    static let versionVocabulary = RunFilter.Vocabulary(attributes: ["name", "run_id", "source", "version", "current_stage", "status"],
                                                        numericAttributes: ["version"], bareKeysAreAttributes: true)
    static let modelVocabulary = RunFilter.Vocabulary(attributes: ["name"], numericAttributes: [], bareKeysAreAttributes: true)

    /// `name = 'x'` or `name LIKE '%x%'` (the filters MLflow's registered-model search takes).
    static func nameFilter(_ text: String?, column: String) throws -> (String, StatementArguments) {
        guard let filter = try MLflowFilterSQL.parse(text, modelVocabulary) else { return ("1", []) }
        var clauses: [String] = []
        var args: [any DatabaseValueConvertible] = []
        for c in filter.comparisons {
            switch c.entity {
            case .attribute:
                clauses.append(MLflowFilterSQL.compare(c, column: column, args: &args))
            case .tag:
                clauses.append(MLflowFilterSQL.keyValue(c, table: "registered_model_tags", match: "t.name = \(column)", args: &args))
            default:
                throw MLflowError(.invalidParameterValue, "Invalid filter '\(text ?? "")': filter registered models on name or tags.KEY")
            }
        }
        return (clauses.joined(separator: " AND "), StatementArguments(args))
    }

}

import Foundation
import GRDB
import MLOpsCore

/// MLflow 3's logged models (`/api/2.0/mlflow/logged-models`): what `mlflow.<flavor>.log_model`
/// creates before it uploads the model's files, and what `register_model("models:/m-…")` turns
/// into a registered version. A logged model belongs to an experiment and, usually, to the run
/// that produced it; its files live under `EXPERIMENT_ARTIFACTS/models/MODEL_ID/artifacts`.
struct MLflowLoggedModels: Sendable {
    let service: MLflowService
    let artifacts: MLflowArtifacts
    var store: Store { service.store }

    static let statuses = ["LOGGED_MODEL_STATUS_UNSPECIFIED", "LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED"]

    func row(_ db: Database, _ id: String, allowDeleted: Bool = false) throws -> Row {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM logged_models WHERE model_id = ?", arguments: [id]),
              allowDeleted || row["lifecycle_stage"] as String == "active" else {
            throw MLflowError(.resourceDoesNotExist, "Logged model with ID '\(id)' not found.")
        }
        return row
    }

    static func object(_ db: Database, _ row: Row) throws -> [String: Any] {
        let id: String = row["model_id"]
        let tags = try Row.fetchAll(db, sql: "SELECT key, value FROM logged_model_tags WHERE model_id = ? ORDER BY key", arguments: [id])
        let params = try Row.fetchAll(db, sql: "SELECT key, value FROM logged_model_params WHERE model_id = ? ORDER BY key", arguments: [id])
        let metrics = try Row.fetchAll(db, sql: """
            SELECT key, value, is_nan, timestamp, step, run_uuid, dataset_name, dataset_digest FROM logged_model_metrics
            WHERE model_id = ? ORDER BY key, step, timestamp
            """, arguments: [id])
        var info: [String: Any] = [
            "model_id": id, "experiment_id": String(row["experiment_id"] as Int64), "name": row["name"] as String,
            "artifact_uri": row["artifact_location"] as String, "status": row["status"] as String,
            "creation_timestamp_ms": row["creation_time"] as Int64, "last_updated_timestamp_ms": row["last_update_time"] as Int64,
            "tags": tags.map(MLflowEntities.keyValue),
        ]
        if let type = row["model_type"] as String? { info["model_type"] = type }
        if let run = row["source_run_id"] as String? { info["source_run_id"] = run }
        if let message = row["status_message"] as String? { info["status_message"] = message }
        let metricObjects: [[String: Any]] = metrics.map { metric in
            var object = MLflowEntities.metric(MetricPoint(row: metric))
            object["model_id"] = id
            if let run = metric["run_uuid"] as String?, !run.isEmpty { object["run_id"] = run }
            if let name = metric["dataset_name"] as String? { object["dataset_name"] = name }
            if let digest = metric["dataset_digest"] as String? { object["dataset_digest"] = digest }
            return object
        }
        return ["info": info, "data": ["params": params.map(MLflowEntities.keyValue), "metrics": metricObjects]]
    }

    func create(_ f: MLflowFields) throws -> [String: Any] {
        let experiment = try f.required("experiment_id")
        let name = try f.string("name").flatMap { $0.isEmpty ? nil : $0 } ?? MLflowService.generatedRunName()
        guard !name.contains("/"), !name.contains(":") else {
            throw MLflowError.invalid("name", name, "a logged model's name may not contain '/' or ':'")
        }
        let params = try f.keyValues("params"), tags = try f.keyValues("tags")
        for (key, value) in params { try MLflowService.validateParam(key, value) }
        for (key, value) in tags { try MLflowService.validateTag(key, value) }
        let sourceRun = try f.string("source_run_id").flatMap { $0.isEmpty ? nil : $0 }
        return try store.database.write { db in
            let experimentRow = try service.experimentRow(db, id: experiment)
            guard experimentRow["lifecycle_stage"] as String == "active" else {
                throw MLflowError(.invalidParameterValue, "The experiment \(experiment) must be in the 'active' state. Current state is deleted.")
            }
            if let sourceRun { _ = try service.runRecord(db, sourceRun) }
            let id = "m-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            let root = (experimentRow["artifact_location"] as String?) ?? "mlflow-artifacts:/\(experiment)"
            let now = Store.nowMillis()
            try db.execute(sql: """
                INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_time, last_update_time, model_type, source_run_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id, experimentRow["experiment_id"] as Int64, name, "\(root.hasSuffix("/") ? String(root.dropLast()) : root)/models/\(id)/artifacts",
                                 now, now, try f.string("model_type"), sourceRun])
            try insert(db, id, params: params)
            try upsert(db, id, tags: tags)
            return ["model": try Self.object(db, try row(db, id))]
        }
    }

    func get(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.required("model_id")
        let allowDeleted = try f.bool("allow_deleted") ?? false
        return try store.database.read { db in ["model": try Self.object(db, try row(db, id, allowDeleted: allowDeleted))] }
    }

    /// `PATCH logged-models/ID`: the client marks the upload READY or UPLOAD_FAILED.
    func finalize(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.required("model_id")
        let written = try f.required("status")
        let status: String
        if let number = Int(written), Self.statuses.indices.contains(number) {
            status = Self.statuses[number]
        } else if let name = Self.statuses.first(where: { $0 == written || $0 == "LOGGED_MODEL_\(written)" }) {
            status = name
        } else {
            throw MLflowError.invalid("status", written, "use LOGGED_MODEL_READY, LOGGED_MODEL_PENDING or LOGGED_MODEL_UPLOAD_FAILED")
        }
        return try store.database.write { db in
            _ = try row(db, id)
            try db.execute(sql: "UPDATE logged_models SET status = ?, last_update_time = ? WHERE model_id = ?", arguments: [status, Store.nowMillis(), id])
            return ["model": try Self.object(db, try row(db, id))]
        }
    }

    /// A write to the one active logged model that the request's `model_id` names.
    func write(_ f: MLflowFields, _ body: (Database, String) throws -> Void) throws -> [String: Any] {
        let id = try f.required("model_id")
        try store.database.write { db in
            _ = try row(db, id)
            try body(db, id)
        }
        return [:]
    }

    func delete(_ f: MLflowFields) throws -> [String: Any] {
        try write(f) { db, id in
            try db.execute(sql: "UPDATE logged_models SET lifecycle_stage = 'deleted', last_update_time = ? WHERE model_id = ?", arguments: [Store.nowMillis(), id])
            try AuditLog.record(db, entityType: "logged_model", entityID: id, action: "delete")
        }
    }

    func setTags(_ f: MLflowFields) throws -> [String: Any] {
        let tags = try f.keyValues("tags")
        for (key, value) in tags { try MLflowService.validateTag(key, value) }
        return try write(f) { db, id in try upsert(db, id, tags: tags) }
    }

    func deleteTag(_ f: MLflowFields) throws -> [String: Any] {
        let key = try f.required("tag_key")
        return try write(f) { db, id in
            try db.execute(sql: "DELETE FROM logged_model_tags WHERE model_id = ? AND key = ?", arguments: [id, key])
            guard db.changesCount > 0 else { throw MLflowError(.resourceDoesNotExist, "No tag with key '\(key)' found for model with ID '\(id)'.") }
        }
    }

    func logParams(_ f: MLflowFields) throws -> [String: Any] {
        let params = try f.keyValues("params")
        for (key, value) in params { try MLflowService.validateParam(key, value) }
        return try write(f) { db, id in try insert(db, id, params: params) }
    }

    func insert(_ db: Database, _ id: String, params: [String: String]) throws {
        for (key, value) in params {
            if let logged = try String.fetchOne(db, sql: "SELECT value FROM logged_model_params WHERE model_id = ? AND key = ?", arguments: [id, key]), logged != value {
                throw MLflowError(.invalidParameterValue, "Changing param values is not allowed. Param with key='\(key)' was already logged with value='\(logged)' for model ID='\(id)'. Attempted logging new value '\(value)'.")
            }
            try db.execute(sql: "INSERT OR IGNORE INTO logged_model_params (model_id, key, value) VALUES (?, ?, ?)", arguments: [id, key, value])
        }
    }

    func upsert(_ db: Database, _ id: String, tags: [String: String]) throws {
        for (key, value) in tags {
            let stored = key == Self.registrationsKey ? Self.registrations(value, plus: []) : value
            try db.execute(sql: "INSERT OR REPLACE INTO logged_model_tags (model_id, key, value) VALUES (?, ?, ?)", arguments: [id, key, stored])
        }
        if !tags.isEmpty {
            try db.execute(sql: "UPDATE logged_models SET last_update_time = ? WHERE model_id = ?", arguments: [Store.nowMillis(), id])
        }
    }

    /// The tag that lists the registered versions made from a logged model, as MLflow keeps it.
    static let registrationsKey = "mlflow.modelVersions"

    /// The server records a registration when it creates the version, and MLflow's client then
    /// appends the same one again (with the version as a string); each is kept once.
    static func registrations(_ json: String?, plus added: [(name: String, version: String)]) -> String {
        let written = json.flatMap { try? JSONBody.parse($0) as? [Any] }?.compactMap { $0 as? [String: Any] } ?? []
        var seen: Set<String> = []
        var entries: [[String: String]] = []
        for (name, version) in written.map({ (($0["name"] as? String) ?? "", "\($0["version"].map { "\($0)" } ?? "")") }) + added
        where seen.insert("\(name)\u{0}\(version)").inserted {
            entries.append(["name": name, "version": version])
        }
        return String(decoding: JSONWriter.bytes(entries), as: UTF8.self)
    }

    static func recordRegistration(_ db: Database, modelID: String, name: String, version: Int) throws {
        let existing = try String.fetchOne(db, sql: "SELECT value FROM logged_model_tags WHERE model_id = ? AND key = ?", arguments: [modelID, registrationsKey])
        try db.execute(sql: "INSERT OR REPLACE INTO logged_model_tags (model_id, key, value) VALUES (?, ?, ?)",
                       arguments: [modelID, registrationsKey, registrations(existing, plus: [(name, String(version))])])
    }

    /// The files of a logged model, one folder at a time (`artifact_directory_path`).
    func listArtifacts(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.required("model_id")
        let location: String = try store.database.read { db in try row(db, id)["artifact_location"] }
        guard let root = MLflowArtifacts.proxiedPath(location) else {
            throw MLflowError(.invalidParameterValue, "The files of logged model '\(id)' are at \(location), outside this server's artifact proxy")
        }
        let folder = try f.string("artifact_directory_path").flatMap { $0.isEmpty ? nil : $0 }
        var listing = try artifacts.list(folder.map { root + "/" + $0 } ?? root)
        listing["root_uri"] = location
        if let folder, var files = listing["files"] as? [[String: Any]] {
            for i in files.indices { files[i]["path"] = folder + "/" + ((files[i]["path"] as? String) ?? "") }
            listing["files"] = files
        }
        return listing
    }
}

// MARK: Metrics logged against a model

extension MLflowLoggedModels {
    /// A metric a run logged with a `model_id`: it is the run's metric and the model's too.
    struct ModelMetric {
        var point: MetricPoint
        var modelID: String
        var datasetName: String?
        var datasetDigest: String?

        /// The model-side fields of a metric message, or nil when it names no model.
        init?(_ point: MetricPoint, _ f: MLflowFields) throws {
            guard let id = try f.string("model_id"), !id.isEmpty else { return nil }
            self.point = point
            modelID = id
            datasetName = try f.string("dataset_name").flatMap { $0.isEmpty ? nil : $0 }
            datasetDigest = try f.string("dataset_digest").flatMap { $0.isEmpty ? nil : $0 }
        }
    }

    static func insert(_ db: Database, runID: String, _ metrics: [ModelMetric]) throws {
        guard !metrics.isEmpty else { return }
        for id in Set(metrics.map(\.modelID)) where try Bool.fetchOne(db, sql: "SELECT 1 FROM logged_models WHERE model_id = ?", arguments: [id]) != true {
            throw MLflowError(.resourceDoesNotExist, "Logged model with ID '\(id)' not found.")
        }
        let statement = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO logged_model_metrics (model_id, key, value, is_nan, timestamp, step, run_uuid, dataset_name, dataset_digest)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for metric in metrics {
            let isNaN = metric.point.value.isNaN
            try statement.execute(arguments: [metric.modelID, metric.point.key, isNaN ? 0 : metric.point.value, isNaN, metric.point.timestamp,
                                              metric.point.step, runID, metric.datasetName, metric.datasetDigest])
        }
    }
}

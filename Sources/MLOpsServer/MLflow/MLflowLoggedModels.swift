import Foundation
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

    func model(_ tx: StoreTransaction, _ id: String, allowDeleted: Bool = false) throws -> LoggedModelRecords.LoggedModel {
        guard let model = try LoggedModelRecords.model(tx, id), allowDeleted || model.lifecycleStage == "active" else {
            throw MLflowError(.resourceDoesNotExist, "Logged model with ID '\(id)' not found.")
        }
        return model
    }

    static func object(_ model: LoggedModelRecords.LoggedModel) -> [String: Any] {
        var info: [String: Any] = [
            "model_id": model.id, "experiment_id": String(model.experimentID), "name": model.name,
            "artifact_uri": model.artifactLocation, "status": model.status,
            "creation_timestamp_ms": model.creationTime, "last_updated_timestamp_ms": model.lastUpdateTime,
            "tags": MLflowEntities.keyValues(model.tags),
        ]
        if let type = model.modelType { info["model_type"] = type }
        if let run = model.sourceRunID { info["source_run_id"] = run }
        if let message = model.statusMessage { info["status_message"] = message }
        let metricObjects: [[String: Any]] = model.metrics.map { metric in
            var object = MLflowEntities.metric(metric.point)
            object["model_id"] = model.id
            if let run = metric.runID { object["run_id"] = run }
            if let name = metric.datasetName { object["dataset_name"] = name }
            if let digest = metric.datasetDigest { object["dataset_digest"] = digest }
            return object
        }
        return ["info": info, "data": ["params": MLflowEntities.keyValues(model.params), "metrics": metricObjects]]
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
        return try store.write { tx in
            let found = try service.experiment(tx, id: experiment)
            guard found.lifecycleStage == "active" else {
                throw MLflowError(.invalidParameterValue, "The experiment \(experiment) must be in the 'active' state. Current state is deleted.")
            }
            if let sourceRun { _ = try service.runRecord(tx, sourceRun) }
            let id = "m-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            let root = found.artifactLocation ?? "mlflow-artifacts:/\(experiment)"
            try LoggedModelRecords.create(tx, id: id, experimentID: found.id, name: name,
                                          artifactLocation: "\(root.hasSuffix("/") ? String(root.dropLast()) : root)/models/\(id)/artifacts",
                                          modelType: try f.string("model_type"), sourceRunID: sourceRun, now: store.nowMillis())
            try insert(tx, id, params: params)
            try upsert(tx, id, tags: tags)
            return ["model": Self.object(try model(tx, id))]
        }
    }

    func get(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.required("model_id")
        let allowDeleted = try f.bool("allow_deleted") ?? false
        return try store.read { tx in ["model": Self.object(try model(tx, id, allowDeleted: allowDeleted))] }
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
        return try store.write { tx in
            _ = try model(tx, id)
            try LoggedModelRecords.setStatus(tx, id, status, now: store.nowMillis())
            return ["model": Self.object(try model(tx, id))]
        }
    }

    /// A write to the one active logged model that the request's `model_id` names.
    func write(_ f: MLflowFields, _ body: (StoreTransaction, String) throws -> Void) throws -> [String: Any] {
        let id = try f.required("model_id")
        try store.write { tx in
            _ = try model(tx, id)
            try body(tx, id)
        }
        return [:]
    }

    func delete(_ f: MLflowFields) throws -> [String: Any] {
        try write(f) { tx, id in try LoggedModelRecords.delete(tx, id, now: store.nowMillis()) }
    }

    func setTags(_ f: MLflowFields) throws -> [String: Any] {
        let tags = try f.keyValues("tags")
        for (key, value) in tags { try MLflowService.validateTag(key, value) }
        return try write(f) { tx, id in try upsert(tx, id, tags: tags) }
    }

    func deleteTag(_ f: MLflowFields) throws -> [String: Any] {
        let key = try f.required("tag_key")
        return try write(f) { tx, id in
            guard try LoggedModelRecords.deleteTag(tx, id, key) else { throw MLflowError(.resourceDoesNotExist, "No tag with key '\(key)' found for model with ID '\(id)'.") }
        }
    }

    func logParams(_ f: MLflowFields) throws -> [String: Any] {
        let params = try f.keyValues("params")
        for (key, value) in params { try MLflowService.validateParam(key, value) }
        return try write(f) { tx, id in try insert(tx, id, params: params) }
    }

    func insert(_ tx: StoreTransaction, _ id: String, params: [String: String]) throws {
        for (key, value) in params.sorted(by: { $0.key < $1.key }) {
            if let logged = try LoggedModelRecords.param(tx, id, key), logged != value {
                throw MLflowError(.invalidParameterValue, "Changing param values is not allowed. Param with key='\(key)' was already logged with value='\(logged)' for model ID='\(id)'. Attempted logging new value '\(value)'.")
            }
            try LoggedModelRecords.insertParam(tx, id, key, value)
        }
    }

    func upsert(_ tx: StoreTransaction, _ id: String, tags: [String: String]) throws {
        for (key, value) in tags.sorted(by: { $0.key < $1.key }) {
            try LoggedModelRecords.setTag(tx, id, key, key == Self.registrationsKey ? Self.registrations(value, plus: []) : value)
        }
        if !tags.isEmpty { try LoggedModelRecords.touch(tx, id, now: store.nowMillis()) }
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

    static func recordRegistration(_ tx: StoreTransaction, modelID: String, name: String, version: Int) throws {
        let existing = try LoggedModelRecords.tag(tx, modelID, registrationsKey)
        try LoggedModelRecords.setTag(tx, modelID, registrationsKey, registrations(existing, plus: [(name, String(version))]))
    }

    /// The files of a logged model, one folder at a time (`artifact_directory_path`).
    func listArtifacts(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.required("model_id")
        let location = try store.read { tx in try model(tx, id).artifactLocation }
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

    static func insert(_ tx: StoreTransaction, runID: String, _ metrics: [ModelMetric]) throws {
        guard !metrics.isEmpty else { return }
        for id in Set(metrics.map(\.modelID)) where try !LoggedModelRecords.exists(tx, id) {
            throw MLflowError(.resourceDoesNotExist, "Logged model with ID '\(id)' not found.")
        }
        try LoggedModelRecords.logMetrics(tx, runID: runID, metrics.map {
            ($0.modelID, .init(point: $0.point, runID: runID, datasetName: $0.datasetName, datasetDigest: $0.datasetDigest))
        })
    }
}

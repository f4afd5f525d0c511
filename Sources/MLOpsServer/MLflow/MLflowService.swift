import Foundation
import MLOpsCore

/// MLflow's tracking semantics over our store: the same experiments, runs, params, metrics and
/// tags that `mlops run` records and `mlops runs` shows, so a script that calls
/// `mlflow.log_metric` and a job stage are two faces of one history. Methods take a request's
/// fields and return the response object.
struct MLflowService: Sendable {
    let store: Store
    let tracker: Tracker
    /// Where `mlflow-artifacts:/` paths live on disk.
    let artifactRoot: String

    init(store: Store, artifactRoot: String) {
        self.store = store
        tracker = Tracker(store: store)
        self.artifactRoot = artifactRoot
    }

    // MARK: Names and limits (MLflow's own)

    static let maxParamValueLength = 6000
    static let maxTagValueLength = 8000
    static let maxKeyLength = 250

    static func validateKey(_ key: String, _ what: String) throws {
        guard !key.isEmpty else { throw MLflowError.missing("key") }
        guard key.count <= maxKeyLength else {
            throw MLflowError(.invalidParameterValue, "\(what) name '\(key.prefix(40))…' had length \(key.count), which exceeded length limit of \(maxKeyLength)")
        }
        let allowed = key.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "_-. /:".unicodeScalars.contains($0) }
        let path = key.split(separator: "/", omittingEmptySubsequences: false)
        guard allowed, !key.hasPrefix("/"), !path.contains(".."), !path.contains(".") else {
            throw MLflowError(.invalidParameterValue,
                              "Invalid \(what.lowercased()) name: '\(key)'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).")
        }
    }

    // MARK: Experiments

    func experiment(_ tx: StoreTransaction, id: String) throws -> ExperimentRecords.Experiment {
        guard let number = Int64(id), let found = try ExperimentRecords.experiment(tx, id: number) else {
            throw MLflowError(.resourceDoesNotExist, "No Experiment with id=\(id) exists")
        }
        return found
    }

    func createExperiment(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name")
        let tags = try f.keyValues("tags")
        let location = try f.string("artifact_location")
        return try store.write { tx in
            if let existing = try ExperimentRecords.experiment(tx, named: name) {
                throw MLflowError(.resourceAlreadyExists, existing.lifecycleStage == "deleted"
                    ? "Experiment '\(name)' already exists in deleted state. You can restore the experiment, or permanently delete it before creating a new one with that name."
                    : "Experiment(name=\(name)) already exists.")
            }
            let id = try ExperimentRecords.create(tx, name: name, artifactLocation: location, tags: tags, now: store.nowMillis())
            return ["experiment_id": String(id)]
        }
    }

    func getExperiment(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.required("experiment_id")
        return try store.read { tx in ["experiment": MLflowEntities.experiment(try experiment(tx, id: id))] }
    }

    func getExperimentByName(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("experiment_name")
        return try store.read { tx in
            guard let found = try ExperimentRecords.experiment(tx, named: name) else {
                throw MLflowError(.resourceDoesNotExist, "Could not find experiment with name '\(name)'")
            }
            return ["experiment": MLflowEntities.experiment(found)]
        }
    }

    func updateExperiment(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.required("experiment_id")
        let name = try f.string("new_name")
        try store.write { tx in
            let found = try experiment(tx, id: id)
            guard found.lifecycleStage == "active" else {
                throw MLflowError(.invalidParameterValue, "Cannot rename a non-active experiment.")
            }
            if let name, !name.isEmpty {
                if try ExperimentRecords.nameTaken(tx, name, except: found.id) {
                    throw MLflowError(.resourceAlreadyExists, "Experiment(name=\(name)) already exists.")
                }
                try ExperimentRecords.rename(tx, found.id, to: name, now: store.nowMillis())
            }
        }
        return [:]
    }

    /// Deleting an experiment deletes its runs too, and restoring restores them (as MLflow does).
    func setExperimentLifecycle(_ f: MLflowFields, to stage: String) throws -> [String: Any] {
        let id = try f.required("experiment_id")
        try store.write { tx in
            let found = try experiment(tx, id: id)
            if stage == "deleted", found.id == 0 {
                throw MLflowError(.invalidParameterValue, "Cannot delete the default experiment '0'. This is an internally reserved experiment.")
            }
            try ExperimentRecords.setLifecycle(tx, found.id, to: stage, now: store.nowMillis())
        }
        return [:]
    }

    func setExperimentTag(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.required("experiment_id"), key = try f.required("key")
        let value = try f.string("value") ?? ""
        try Self.validateKey(key, "Tag")
        try store.write { tx in try ExperimentRecords.setTag(tx, try experiment(tx, id: id).id, key, value) }
        return [:]
    }

    func deleteExperimentTag(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.required("experiment_id"), key = try f.required("key")
        try store.write { tx in
            guard try ExperimentRecords.deleteTag(tx, try experiment(tx, id: id).id, key) else {
                throw MLflowError(.resourceDoesNotExist, "No tag with name: \(key) in experiment with id \(id)")
            }
        }
        return [:]
    }

    static let experimentVocabulary = RunFilter.Vocabulary(
        attributes: ["name", "experiment_id", "creation_time", "last_update_time", "lifecycle_stage"],
        numericAttributes: ["creation_time", "last_update_time"], bareKeysAreAttributes: true)

    func searchExperiments(_ f: MLflowFields) throws -> [String: Any] {
        let stages = try Self.lifecycleStages(f.string("view_type"))
        let text = try f.string("filter")
        let filter = try MLflowFilter.parse(text, Self.experimentVocabulary)
        for comparison in filter?.comparisons ?? [] where comparison.entity == .metric || comparison.entity == .param {
            throw MLflowError(.invalidParameterValue, "Invalid filter '\(text ?? "")': experiments have no \(comparison.entity.rawValue)s; filter on name, tags.KEY, creation_time or last_update_time")
        }
        var order: [(key: String, ascending: Bool)] = []
        for term in try f.strings("order_by") {
            let parts = term.split(separator: " ", omittingEmptySubsequences: true)
            var key = parts.first.map(String.init) ?? ""
            if key.hasPrefix("attribute.") || key.hasPrefix("attributes.") { key = String(key[key.index(after: key.firstIndex(of: ".")!)...]) }
            guard ["name", "experiment_id", "creation_time", "last_update_time"].contains(key), parts.count <= 2 else {
                throw MLflowError(.invalidParameterValue, "Invalid order_by clause '\(term)': order by name, experiment_id, creation_time or last_update_time, then ASC or DESC")
            }
            let direction = parts.count == 2 ? parts[1].uppercased() : "ASC"
            guard direction == "ASC" || direction == "DESC" else { throw MLflowError(.invalidParameterValue, "Invalid order_by clause '\(term)'") }
            order.append((key, direction == "ASC"))
        }
        return try page(f, default: 1000, limit: 50_000, key: "experiments",
                        fetch: { tx, page in try ExperimentRecords.search(tx, stages: stages, filter: filter, order: order, page: page) },
                        object: MLflowEntities.experiment)
    }

    /// A request's `max_results` (within MLflow's bound for that search) and the offset its
    /// `page_token` holds.
    func pageBounds(_ f: MLflowFields, default defaultCount: Int, limit: Int) throws -> (maxResults: Int, offset: Int) {
        let maxResults = Int(try f.int64("max_results") ?? Int64(defaultCount))
        guard (1...limit).contains(maxResults) else { throw MLflowError.invalid("max_results", maxResults, "it must be between 1 and \(limit)") }
        return (maxResults, try MLflowEntities.offset(fromPageToken: try f.string("page_token")))
    }

    /// One page of a search as `key`, with the next token when there are more: one item past the
    /// page is read to know.
    func page<Item>(_ f: MLflowFields, default defaultCount: Int, limit: Int, key: String,
                    fetch: (StoreTransaction, Page) throws -> [Item], object: (Item) throws -> Any) throws -> [String: Any] {
        let (maxResults, offset) = try pageBounds(f, default: defaultCount, limit: limit)
        return try store.read { tx in
            let items = try fetch(tx, Page(limit: maxResults + 1, offset: offset))
            var result: [String: Any] = [key: try items.prefix(maxResults).map(object)]
            if items.count > maxResults { result["next_page_token"] = MLflowEntities.pageToken(offset: offset + maxResults) }
            return result
        }
    }

    /// `ACTIVE_ONLY` (the default), `DELETED_ONLY` or `ALL`, by name or number.
    static func lifecycleStages(_ viewType: String?) throws -> [String] {
        switch viewType ?? "ACTIVE_ONLY" {
        case "ACTIVE_ONLY", "1", "": ["active"]
        case "DELETED_ONLY", "2": ["deleted"]
        case "ALL", "3": ["active", "deleted"]
        case let other: throw MLflowError.invalid("view_type", other, "use ACTIVE_ONLY, DELETED_ONLY or ALL")
        }
    }
}

import Foundation
import GRDB
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

    func experimentRow(_ db: Database, id: String) throws -> Row {
        guard let number = Int64(id), let row = try Row.fetchOne(db, sql: "SELECT * FROM experiments WHERE experiment_id = ?", arguments: [number]) else {
            throw MLflowError(.resourceDoesNotExist, "No Experiment with id=\(id) exists")
        }
        return row
    }

    func experimentObject(_ db: Database, _ row: Row) throws -> [String: Any] {
        let tags = try Row.fetchAll(db, sql: "SELECT key, value FROM experiment_tags WHERE experiment_id = ?", arguments: [row["experiment_id"] as Int64])
        return MLflowEntities.experiment(row, tags: Dictionary(tags.map { ($0["key"], $0["value"] ?? "") }, uniquingKeysWith: { _, b in b }))
    }

    func createExperiment(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name")
        let tags = try f.keyValues("tags")
        let location = try f.string("artifact_location")
        let now = Store.nowMillis()
        return try store.database.write { db in
            if let stage = try String.fetchOne(db, sql: "SELECT lifecycle_stage FROM experiments WHERE name = ?", arguments: [name]) {
                throw MLflowError(.resourceAlreadyExists, stage == "deleted"
                    ? "Experiment '\(name)' already exists in deleted state. You can restore the experiment, or permanently delete it before creating a new one with that name."
                    : "Experiment(name=\(name)) already exists.")
            }
            try db.execute(sql: "INSERT INTO experiments (name, artifact_location, creation_time, last_update_time) VALUES (?, ?, ?, ?)",
                           arguments: [name, location, now, now])
            let id = db.lastInsertedRowID
            if location == nil {
                try db.execute(sql: "UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?", arguments: ["mlflow-artifacts:/\(id)", id])
            }
            for (key, value) in tags {
                try db.execute(sql: "INSERT OR REPLACE INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)", arguments: [id, key, value])
            }
            try AuditLog.record(db, entityType: "experiment", entityID: String(id), action: "create", detail: name)
            return ["experiment_id": String(id)]
        }
    }

    func getExperiment(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.required("experiment_id")
        return try store.database.read { db in ["experiment": try experimentObject(db, try experimentRow(db, id: id))] }
    }

    func getExperimentByName(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("experiment_name")
        return try store.database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM experiments WHERE name = ?", arguments: [name]) else {
                throw MLflowError(.resourceDoesNotExist, "Could not find experiment with name '\(name)'")
            }
            return ["experiment": try experimentObject(db, row)]
        }
    }

    func updateExperiment(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.required("experiment_id")
        let name = try f.string("new_name")
        try store.database.write { db in
            let row = try experimentRow(db, id: id)
            guard row["lifecycle_stage"] as String == "active" else {
                throw MLflowError(.invalidParameterValue, "Cannot rename a non-active experiment.")
            }
            if let name, !name.isEmpty {
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM experiments WHERE name = ? AND experiment_id != ?", arguments: [name, row["experiment_id"] as Int64]) == true {
                    throw MLflowError(.resourceAlreadyExists, "Experiment(name=\(name)) already exists.")
                }
                try db.execute(sql: "UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?",
                               arguments: [name, Store.nowMillis(), row["experiment_id"] as Int64])
            }
        }
        return [:]
    }

    /// Deleting an experiment deletes its runs too, and restoring restores them (as MLflow does).
    func setExperimentLifecycle(_ f: MLflowFields, to stage: String) throws -> [String: Any] {
        let id = try f.required("experiment_id")
        try store.database.write { db in
            let row = try experimentRow(db, id: id)
            let number: Int64 = row["experiment_id"]
            if stage == "deleted", number == 0 {
                throw MLflowError(.invalidParameterValue, "Cannot delete the default experiment '0'. This is an internally reserved experiment.")
            }
            try db.execute(sql: "UPDATE experiments SET lifecycle_stage = ?, last_update_time = ? WHERE experiment_id = ?", arguments: [stage, Store.nowMillis(), number])
            try db.execute(sql: "UPDATE runs SET lifecycle_stage = ? WHERE experiment_id = ?", arguments: [stage, number])
            try AuditLog.record(db, entityType: "experiment", entityID: id, action: stage == "deleted" ? "delete" : "restore", to: stage)
        }
        return [:]
    }

    func setExperimentTag(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.required("experiment_id"), key = try f.required("key")
        let value = try f.string("value") ?? ""
        try Self.validateKey(key, "Tag")
        try store.database.write { db in
            let row = try experimentRow(db, id: id)
            try db.execute(sql: "INSERT OR REPLACE INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)",
                           arguments: [row["experiment_id"] as Int64, key, value])
        }
        return [:]
    }

    func deleteExperimentTag(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.required("experiment_id"), key = try f.required("key")
        try store.database.write { db in
            let row = try experimentRow(db, id: id)
            try db.execute(sql: "DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?", arguments: [row["experiment_id"] as Int64, key])
            guard db.changesCount > 0 else { throw MLflowError(.resourceDoesNotExist, "No tag with name: \(key) in experiment with id \(id)") }
        }
        return [:]
    }

    static let experimentVocabulary = RunFilter.Vocabulary(
        attributes: ["name", "experiment_id", "creation_time", "last_update_time", "lifecycle_stage"],
        numericAttributes: ["creation_time", "last_update_time"], bareKeysAreAttributes: true)

    func searchExperiments(_ f: MLflowFields) throws -> [String: Any] {
        var clauses = ["e.lifecycle_stage IN (\(try Self.lifecycleStages(f.string("view_type")).map { "'\($0)'" }.joined(separator: ",")))"]
        var args: [any DatabaseValueConvertible] = []
        let text = try f.string("filter")
        if let filter = try MLflowFilterSQL.parse(text, Self.experimentVocabulary) {
            for comparison in filter.comparisons {
                switch comparison.entity {
                case .tag:
                    clauses.append(MLflowFilterSQL.keyValue(comparison, table: "experiment_tags", match: "t.experiment_id = e.experiment_id", args: &args))
                case .attribute:
                    clauses.append(MLflowFilterSQL.compare(comparison, column: "e.\(comparison.key)", args: &args))
                case .metric, .param:
                    throw MLflowError(.invalidParameterValue, "Invalid filter '\(text ?? "")': experiments have no \(comparison.entity.rawValue)s; filter on name, tags.KEY, creation_time or last_update_time")
                }
            }
        }
        var order: [String] = []
        for term in try f.strings("order_by") {
            let parts = term.split(separator: " ", omittingEmptySubsequences: true)
            var key = parts.first.map(String.init) ?? ""
            if key.hasPrefix("attribute.") || key.hasPrefix("attributes.") { key = String(key[key.index(after: key.firstIndex(of: ".")!)...]) }
            guard ["name", "experiment_id", "creation_time", "last_update_time"].contains(key), parts.count <= 2 else {
                throw MLflowError(.invalidParameterValue, "Invalid order_by clause '\(term)': order by name, experiment_id, creation_time or last_update_time, then ASC or DESC")
            }
            let direction = parts.count == 2 ? parts[1].uppercased() : "ASC"
            guard direction == "ASC" || direction == "DESC" else { throw MLflowError(.invalidParameterValue, "Invalid order_by clause '\(term)'") }
            order.append("e.\(key) \(direction)")
        }
        order += ["e.creation_time DESC", "e.experiment_id ASC"]
        return try page(f, default: 1000, limit: 50_000, key: "experiments",
                        sql: "SELECT e.* FROM experiments e WHERE \(clauses.joined(separator: " AND ")) ORDER BY \(order.joined(separator: ", "))",
                        StatementArguments(args), object: experimentObject)
    }

    /// A request's `max_results` (within MLflow's bound for that search) and the offset its
    /// `page_token` holds.
    func pageBounds(_ f: MLflowFields, default defaultCount: Int, limit: Int) throws -> (maxResults: Int, offset: Int) {
        let maxResults = Int(try f.int64("max_results") ?? Int64(defaultCount))
        guard (1...limit).contains(maxResults) else { throw MLflowError.invalid("max_results", maxResults, "it must be between 1 and \(limit)") }
        return (maxResults, try MLflowEntities.offset(fromPageToken: try f.string("page_token")))
    }

    /// One page of `sql`'s rows as `key`, with the next token when there are more: one row past
    /// the page is read to know.
    func page(_ f: MLflowFields, default defaultCount: Int, limit: Int, key: String, sql: String, _ args: StatementArguments,
              object: (Database, Row) throws -> [String: Any]) throws -> [String: Any] {
        let (maxResults, offset) = try pageBounds(f, default: defaultCount, limit: limit)
        return try store.database.read { db in
            let rows = try Row.fetchAll(db, sql: sql + " LIMIT ? OFFSET ?", arguments: args + [maxResults + 1, offset])
            var result: [String: Any] = [key: try rows.prefix(maxResults).map { try object(db, $0) }]
            if rows.count > maxResults { result["next_page_token"] = MLflowEntities.pageToken(offset: offset + maxResults) }
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

import Foundation
import GRDB
import MLOpsCore

/// Runs, params, metrics and tags through MLflow's API.
extension MLflowService {
    func runRecord(_ db: Database, _ id: String) throws -> RunRecord {
        guard let run = try RunRecord.fetchOne(db, key: id) else { throw MLflowError(.resourceDoesNotExist, "Run with id=\(id) not found") }
        return run
    }

    /// Writes go only to active runs, as in MLflow.
    func activeRun(_ db: Database, _ id: String) throws -> RunRecord {
        let run = try runRecord(db, id)
        guard run.lifecycleStage == "active" else {
            throw MLflowError(.invalidParameterValue, "The run \(id) must be in the 'active' state. Current state is \(run.lifecycleStage).")
        }
        return run
    }

    /// A write to an active run in one transaction, answered as MLflow answers writes: `{}`.
    func writeActiveRun(_ id: String, _ body: (Database) throws -> Void) throws -> [String: Any] {
        try store.database.write { db in
            _ = try activeRun(db, id)
            try body(db)
        }
        return [:]
    }

    func createRun(_ f: MLflowFields) throws -> [String: Any] {
        let experiment = try f.string("experiment_id") ?? "0"
        var tags = try f.keyValues("tags")
        for key in tags.keys { try Self.validateKey(key, "Tag") }
        let name = try f.string("run_name").flatMap { $0.isEmpty ? nil : $0 } ?? tags["mlflow.runName"] ?? Self.generatedRunName()
        tags["mlflow.runName"] = name
        let start = try f.int64("start_time") ?? Store.nowMillis()
        let user = try f.string("user_id") ?? tags["mlflow.user"]
        return try store.database.write { db in
            let row = try experimentRow(db, id: experiment)
            guard row["lifecycle_stage"] as String == "active" else {
                throw MLflowError(.invalidParameterValue, "The experiment \(experiment) must be in the 'active' state. Current state is deleted.")
            }
            var run = RunRecord(experimentID: row["experiment_id"], name: name, status: .running, startTime: start, kind: .run)
            run.userID = user
            let location = (row["artifact_location"] as String?) ?? "mlflow-artifacts:/\(experiment)"
            run.artifactURI = "\(location.hasSuffix("/") ? String(location.dropLast()) : location)/\(run.id)/artifacts"
            try Tracker.create(StoreTransaction(db), run, params: [:], tags: tags)
            return ["run": try runJSON(db, run)]
        }
    }

    func getRun(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.runID()
        return try store.database.read { db in ["run": try runJSON(db, try runRecord(db, id))] }
    }

    func updateRun(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.runID()
        let status = try f.string("status").map { text -> RunStatus in
            guard let status = RunStatus(rawValue: text) else { throw MLflowError.invalid("status", text, "use RUNNING, SCHEDULED, FINISHED, FAILED or KILLED") }
            return status
        }
        let end = try f.int64("end_time")
        let name = try f.string("run_name")
        return try store.database.write { db in
            _ = try activeRun(db, id)
            let run = try Tracker.update(StoreTransaction(db), id, action: status.map { $0.rawValue.lowercased() } ?? "update") { run in
                if let status {
                    run.status = status
                    // A status set through the API has no finer outcome; the runner's own ends keep theirs.
                    if status == .running { run.endTime = nil }
                }
                if let end { run.endTime = end } else if let status, status.isTerminal, run.endTime == nil { run.endTime = Store.nowMillis() }
                if let name, !name.isEmpty { run.name = name }
            }
            if let name, !name.isEmpty { try Tracker.upsertTags(StoreTransaction(db), runID: id, ["mlflow.runName": name]) }
            return ["run_info": MLflowEntities.runInfo(run)]
        }
    }

    func setRunLifecycle(_ f: MLflowFields, to stage: String) throws -> [String: Any] {
        let id = try f.runID()
        try store.database.write { db in
            _ = try runRecord(db, id)
            try Tracker.update(StoreTransaction(db), id, action: stage == "deleted" ? "delete" : "restore") { $0.lifecycleStage = stage }
        }
        return [:]
    }

    func logMetric(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.runID()
        let key = try f.required("key")
        try Self.validateKey(key, "Metric")
        guard let value = try f.double("value") else { throw MLflowError.missing("value") }
        guard let timestamp = try f.int64("timestamp") else { throw MLflowError.missing("timestamp") }
        let point = MetricPoint(key: key, value: value, timestamp: timestamp, step: try f.int64("step") ?? 0)
        let modelMetric = try MLflowLoggedModels.ModelMetric(point, f)
        return try writeActiveRun(id) { db in
            try Tracker.insertMetrics(StoreTransaction(db), runID: id, [point])
            if let modelMetric { try MLflowLoggedModels.insert(db, runID: id, [modelMetric]) }
        }
    }

    func logParam(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.runID()
        let key = try f.required("key")
        let value = try f.string("value") ?? ""
        try Self.validateParam(key, value)
        return try writeActiveRun(id) { db in
            try insertParams(db, id, [key: value])
        }
    }

    static func validateParam(_ key: String, _ value: String) throws {
        try validate(key, value, "Param", limit: maxParamValueLength)
    }

    /// MLflow's rules for a key and the length of its value, and its messages.
    static func validate(_ key: String, _ value: String, _ what: String, limit: Int) throws {
        try validateKey(key, what)
        guard value.count <= limit else {
            throw MLflowError(.invalidParameterValue, "\(what) value '\(value.prefix(40))…' had length \(value.count), which exceeded length limit of \(limit)")
        }
    }

    /// Params are write-once; MLflow's message for a changed value, which its users know.
    func insertParams(_ db: Database, _ runID: String, _ params: [String: String]) throws {
        do {
            try Tracker.insertParams(StoreTransaction(db), runID: runID, params)
        } catch let error as Tracker.TrackingError {
            guard let changed = error.changedParam else { throw error }
            throw MLflowError(.invalidParameterValue, """
                Changing param values is not allowed. Param with key='\(changed.key)' was already logged with value='\(changed.logged)' for run ID='\(runID)'. Attempted logging new value '\(changed.attempted)'.
                """)
        }
    }

    func setTag(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.runID()
        let key = try f.required("key")
        let value = try f.string("value") ?? ""
        try Self.validateTag(key, value)
        return try writeActiveRun(id) { db in
            try setTags(db, id, [key: value])
        }
    }

    static func validateTag(_ key: String, _ value: String) throws {
        try validate(key, value, "Tag", limit: maxTagValueLength)
    }

    /// `mlflow.runName` is the run's name too.
    func setTags(_ db: Database, _ runID: String, _ tags: [String: String]) throws {
        try Tracker.upsertTags(StoreTransaction(db), runID: runID, tags)
        if let name = tags["mlflow.runName"], !name.isEmpty {
            try db.execute(sql: "UPDATE runs SET name = ? WHERE run_uuid = ?", arguments: [name, runID])
        }
    }

    func deleteTag(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.runID()
        let key = try f.required("key")
        return try writeActiveRun(id) { db in
            try db.execute(sql: "DELETE FROM tags WHERE run_uuid = ? AND key = ?", arguments: [id, key])
            guard db.changesCount > 0 else { throw MLflowError(.resourceDoesNotExist, "No tag with name: \(key) in run with id \(id)") }
        }
    }

    /// One transaction: all of the batch is recorded, or none of it.
    func logBatch(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.runID()
        let metricItems = try f.objects("metrics"), paramItems = try f.objects("params"), tagItems = try f.objects("tags")
        guard metricItems.count <= 1000 else {
            throw MLflowError(.invalidParameterValue, "A batch logging request can contain at most 1000 metrics. Got \(metricItems.count) metrics. Please split up metrics across multiple requests and try again.")
        }
        guard paramItems.count <= 100 else {
            throw MLflowError(.invalidParameterValue, "A batch logging request can contain at most 100 params. Got \(paramItems.count) params. Please split up params across multiple requests and try again.")
        }
        guard tagItems.count <= 100 else {
            throw MLflowError(.invalidParameterValue, "A batch logging request can contain at most 100 tags. Got \(tagItems.count) tags. Please split up tags across multiple requests and try again.")
        }
        let total = metricItems.count + paramItems.count + tagItems.count
        guard total <= 1000 else {
            throw MLflowError(.invalidParameterValue, "The total number of metrics, params, and tags in a batch logging request is at most 1000. Got \(total).")
        }
        var points: [MetricPoint] = []
        points.reserveCapacity(metricItems.count)
        var modelMetrics: [MLflowLoggedModels.ModelMetric] = []
        var checked: Set<String> = []
        for (i, item) in metricItems.enumerated() {
            let key = try item.string("key") ?? ""
            if checked.insert(key).inserted { try Self.validateKey(key, "Metric") }
            guard let value = try item.double("value") else { throw MLflowError.missing("metrics[\(i)].value") }
            guard let timestamp = try item.int64("timestamp") else { throw MLflowError.missing("metrics[\(i)].timestamp") }
            let point = MetricPoint(key: key, value: value, timestamp: timestamp, step: try item.int64("step") ?? 0)
            points.append(point)
            if let modelMetric = try MLflowLoggedModels.ModelMetric(point, item) { modelMetrics.append(modelMetric) }
        }
        var params: [String: String] = [:]
        for item in paramItems {
            let key = try item.string("key") ?? "", value = try item.string("value") ?? ""
            try Self.validateParam(key, value)
            if let earlier = params[key], earlier != value {
                throw MLflowError(.invalidParameterValue, "Duplicate parameter keys have been submitted: '\(key)' with values '\(earlier)' and '\(value)'.")
            }
            params[key] = value
        }
        var tags: [String: String] = [:]
        for item in tagItems {
            let key = try item.string("key") ?? "", value = try item.string("value") ?? ""
            try Self.validateTag(key, value)
            tags[key] = value
        }
        return try writeActiveRun(id) { db in
            try insertParams(db, id, params)
            try setTags(db, id, tags)
            try Tracker.insertMetrics(StoreTransaction(db), runID: id, points)
            try MLflowLoggedModels.insert(db, runID: id, modelMetrics)
        }
    }

    func logInputs(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.runID()
        let datasets = try f.objects("datasets"), models = try f.objects("models")
        return try writeActiveRun(id) { db in
            let insert = try db.makeStatement(sql: "INSERT OR REPLACE INTO run_inputs (run_uuid, kind, name, digest, body) VALUES (?, ?, ?, ?, ?)")
            for (i, input) in datasets.enumerated() {
                guard let dataset = input.nested("dataset") else { throw MLflowError.missing("datasets[\(i)].dataset") }
                let name = try dataset.required("name"), digest = try dataset.required("digest")
                try insert.execute(arguments: [id, "dataset", name, digest, String(decoding: JSONWriter.bytes(input.object), as: UTF8.self)])
            }
            for (i, model) in models.enumerated() {
                let modelID = try model.string("model_id") ?? ""
                guard !modelID.isEmpty else { throw MLflowError.missing("models[\(i)].model_id") }
                try insert.execute(arguments: [id, "model", modelID, "", String(decoding: JSONWriter.bytes(model.object), as: UTF8.self)])
            }
        }
    }

    func logOutputs(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.runID()
        let models = try f.objects("models")
        return try writeActiveRun(id) { db in
            for (i, model) in models.enumerated() {
                let modelID = try model.string("model_id") ?? ""
                guard !modelID.isEmpty else { throw MLflowError.missing("models[\(i)].model_id") }
                try db.execute(sql: "INSERT OR IGNORE INTO run_outputs (run_uuid, model_id, step) VALUES (?, ?, ?)",
                               arguments: [id, modelID, try model.int64("step") ?? 0])
            }
        }
    }

    func searchRuns(_ f: MLflowFields) throws -> [String: Any] {
        let (maxResults, offset) = try pageBounds(f, default: 1000, limit: 50_000)
        var search = RunSearch(kind: nil, limit: maxResults + 1)
        search.offset = offset
        search.lifecycleStages = try Self.lifecycleStages(f.string("run_view_type"))
        let experiments = try f.strings("experiment_ids")
        search.experimentIDs = try experiments.map { text in
            guard let id = Int64(text) else { throw MLflowError.invalid("experiment_ids", text, "experiment ids are whole numbers") }
            return id
        }
        search.filter = try MLflowFilterSQL.parse(f.string("filter"))
        for term in try f.strings("order_by") {
            do { search.orderBy += try RunSearch.OrderTerm.parseList(term) } catch {
                throw MLflowError(.invalidParameterValue, "Invalid order_by clause '\(term)': \(error.description)")
            }
        }
        return try store.database.read { db in
            let (sql, arguments) = search.compile()
            let runs = Array(try RunRecord.fetchAll(db, sql: sql, arguments: arguments).prefix(maxResults + 1))
            var result: [String: Any] = ["runs": try runsJSON(db, Array(runs.prefix(maxResults)))]
            if runs.count > maxResults { result["next_page_token"] = MLflowEntities.pageToken(offset: search.offset + maxResults) }
            return result
        }
    }

    func metricHistory(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.runID()
        let key = try f.required("metric_key")
        let maxResults = try f.int64("max_results").map(Int.init)
        let offset = try MLflowEntities.offset(fromPageToken: try f.string("page_token"))
        return try store.database.read { db in
            _ = try runRecord(db, id)
            let limit = maxResults.map { $0 + 1 } ?? -1
            let points = try Row.fetchAll(db, sql: """
                SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ? AND key = ? ORDER BY step, timestamp LIMIT ? OFFSET ?
                """, arguments: [id, key, limit, offset])
                .map { MLflowEntities.metric(MetricPoint(row: $0)) }
            var result: [String: Any] = ["metrics": maxResults.map { Array(points.prefix($0)) } ?? points]
            if let maxResults, points.count > maxResults { result["next_page_token"] = MLflowEntities.pageToken(offset: offset + maxResults) }
            return result
        }
    }

    /// MLflow names unnamed runs like `bold-wolf-42`.
    static func generatedRunName() -> String {
        let adjectives = ["able", "bold", "calm", "brave", "bright", "clever", "eager", "gentle", "keen", "lucky", "merry", "quiet", "swift", "wise"]
        let nouns = ["otter", "wolf", "hawk", "lynx", "owl", "fox", "heron", "bear", "seal", "crane", "finch", "hare", "mole", "wren"]
        return "\(adjectives.randomElement()!)-\(nouns.randomElement()!)-\(Int.random(in: 1...999))"
    }
}

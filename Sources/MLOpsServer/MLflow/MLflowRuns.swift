import Foundation
import MLOpsCore

/// Runs, params, metrics and tags through MLflow's API.
extension MLflowService {
    func runRecord(_ tx: StoreTransaction, _ id: String) throws -> RunRecord {
        guard let run = try Tracker.run(tx, id) else { throw MLflowError(.resourceDoesNotExist, "Run with id=\(id) not found") }
        return run
    }

    /// Writes go only to active runs, as in MLflow.
    func activeRun(_ tx: StoreTransaction, _ id: String) throws -> RunRecord {
        let run = try runRecord(tx, id)
        guard run.lifecycleStage == "active" else {
            throw MLflowError(.invalidParameterValue, "The run \(id) must be in the 'active' state. Current state is \(run.lifecycleStage).")
        }
        return run
    }

    /// A write to an active run in one transaction, answered as MLflow answers writes: `{}`.
    func writeActiveRun(_ id: String, _ body: (StoreTransaction) throws -> Void) throws -> [String: Any] {
        try store.write { tx in
            _ = try activeRun(tx, id)
            try body(tx)
        }
        return [:]
    }

    func createRun(_ f: MLflowFields) throws -> [String: Any] {
        let experiment = try f.string("experiment_id") ?? "0"
        var tags = try f.keyValues("tags")
        for key in tags.keys { try Self.validateKey(key, "Tag") }
        let name = try f.string("run_name").flatMap { $0.isEmpty ? nil : $0 } ?? tags["mlflow.runName"] ?? Self.generatedRunName()
        tags["mlflow.runName"] = name
        let start = try f.int64("start_time") ?? store.nowMillis()
        let user = try f.string("user_id") ?? tags["mlflow.user"]
        return try store.write { tx in
            let found = try self.experiment(tx, id: experiment)
            guard found.lifecycleStage == "active" else {
                throw MLflowError(.invalidParameterValue, "The experiment \(experiment) must be in the 'active' state. Current state is deleted.")
            }
            var run = RunRecord(experimentID: found.id, name: name, status: .running, startTime: start, kind: .run)
            run.userID = user
            let location = found.artifactLocation ?? "mlflow-artifacts:/\(experiment)"
            run.artifactURI = "\(location.hasSuffix("/") ? String(location.dropLast()) : location)/\(run.id)/artifacts"
            try Tracker.create(tx, run, params: [:], tags: tags)
            return ["run": try runJSON(tx, run)]
        }
    }

    func getRun(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.runID()
        return try store.read { tx in ["run": try runJSON(tx, try runRecord(tx, id))] }
    }

    func updateRun(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.runID()
        let status = try f.string("status").map { text -> RunStatus in
            guard let status = RunStatus(rawValue: text) else { throw MLflowError.invalid("status", text, "use RUNNING, SCHEDULED, FINISHED, FAILED or KILLED") }
            return status
        }
        let end = try f.int64("end_time")
        let name = try f.string("run_name")
        return try store.write { tx in
            _ = try activeRun(tx, id)
            let run = try Tracker.update(tx, id, action: status.map { $0.rawValue.lowercased() } ?? "update") { run in
                if let status {
                    run.status = status
                    // A status set through the API has no finer outcome; the runner's own ends keep theirs.
                    if status == .running { run.endTime = nil }
                }
                if let end { run.endTime = end } else if let status, status.isTerminal, run.endTime == nil { run.endTime = store.nowMillis() }
                if let name, !name.isEmpty { run.name = name }
            }
            if let name, !name.isEmpty { try Tracker.upsertTags(tx, runID: id, ["mlflow.runName": name]) }
            return ["run_info": MLflowEntities.runInfo(run)]
        }
    }

    func setRunLifecycle(_ f: MLflowFields, to stage: String) throws -> [String: Any] {
        let id = try f.runID()
        try store.write { tx in
            _ = try runRecord(tx, id)
            try Tracker.update(tx, id, action: stage == "deleted" ? "delete" : "restore") { $0.lifecycleStage = stage }
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
        return try writeActiveRun(id) { tx in
            try Tracker.insertMetrics(tx, runID: id, [point])
            if let modelMetric { try MLflowLoggedModels.insert(tx, runID: id, [modelMetric]) }
        }
    }

    func logParam(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.runID()
        let key = try f.required("key")
        let value = try f.string("value") ?? ""
        try Self.validateParam(key, value)
        return try writeActiveRun(id) { tx in
            try insertParams(tx, id, [key: value])
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
    func insertParams(_ tx: StoreTransaction, _ runID: String, _ params: [String: String]) throws {
        do {
            try Tracker.insertParams(tx, runID: runID, params)
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
        return try writeActiveRun(id) { tx in
            try setTags(tx, id, [key: value])
        }
    }

    static func validateTag(_ key: String, _ value: String) throws {
        try validate(key, value, "Tag", limit: maxTagValueLength)
    }

    /// `mlflow.runName` is the run's name too.
    func setTags(_ tx: StoreTransaction, _ runID: String, _ tags: [String: String]) throws {
        try Tracker.upsertTags(tx, runID: runID, tags)
        if let name = tags["mlflow.runName"], !name.isEmpty {
            try Tracker.rename(tx, runID, to: name)
        }
    }

    func deleteTag(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.runID()
        let key = try f.required("key")
        return try writeActiveRun(id) { tx in
            guard try Tracker.deleteTag(tx, id, key) else { throw MLflowError(.resourceDoesNotExist, "No tag with name: \(key) in run with id \(id)") }
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
        return try writeActiveRun(id) { tx in
            try insertParams(tx, id, params)
            try setTags(tx, id, tags)
            try Tracker.insertMetrics(tx, runID: id, points)
            try MLflowLoggedModels.insert(tx, runID: id, modelMetrics)
        }
    }

    func logInputs(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.runID()
        let datasets = try f.objects("datasets"), models = try f.objects("models")
        return try writeActiveRun(id) { tx in
            for (i, input) in datasets.enumerated() {
                guard let dataset = input.nested("dataset") else { throw MLflowError.missing("datasets[\(i)].dataset") }
                let name = try dataset.required("name"), digest = try dataset.required("digest")
                try Tracker.logInput(tx, id, kind: "dataset", name: name, digest: digest, json: String(decoding: JSONWriter.bytes(input.object), as: UTF8.self))
            }
            for (i, model) in models.enumerated() {
                let modelID = try model.string("model_id") ?? ""
                guard !modelID.isEmpty else { throw MLflowError.missing("models[\(i)].model_id") }
                try Tracker.logInput(tx, id, kind: "model", name: modelID, digest: "", json: String(decoding: JSONWriter.bytes(model.object), as: UTF8.self))
            }
        }
    }

    func logOutputs(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.runID()
        let models = try f.objects("models")
        return try writeActiveRun(id) { tx in
            for (i, model) in models.enumerated() {
                let modelID = try model.string("model_id") ?? ""
                guard !modelID.isEmpty else { throw MLflowError.missing("models[\(i)].model_id") }
                try Tracker.logOutput(tx, id, modelID: modelID, step: try model.int64("step") ?? 0)
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
        search.filter = try MLflowFilter.parse(f.string("filter"))
        for term in try f.strings("order_by") {
            do { search.orderBy += try RunSearch.OrderTerm.parseList(term) } catch {
                throw MLflowError(.invalidParameterValue, "Invalid order_by clause '\(term)': \(error.description)")
            }
        }
        return try store.read { tx in
            let runs = Array(try search.run(tx).prefix(maxResults + 1))
            var result: [String: Any] = ["runs": try runsJSON(tx, Array(runs.prefix(maxResults)))]
            if runs.count > maxResults { result["next_page_token"] = MLflowEntities.pageToken(offset: search.offset + maxResults) }
            return result
        }
    }

    func metricHistory(_ f: MLflowFields) throws -> [String: Any] {
        let id = try f.runID()
        let key = try f.required("metric_key")
        let maxResults = try f.int64("max_results").map(Int.init)
        let offset = try MLflowEntities.offset(fromPageToken: try f.string("page_token"))
        return try store.read { tx in
            _ = try runRecord(tx, id)
            let points = try Tracker.metricHistory(tx, id, key: key, limit: maxResults.map { $0 + 1 }, offset: offset).map(MLflowEntities.metric)
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

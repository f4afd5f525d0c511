import Foundation
import MLOpsCore

/// `/runs/ID`: one run. A job run shows its stages (a DAG drawn from the spec, each stage in its
/// state, and every attempt), its params and metrics with their charts, and its log; a stage
/// attempt shows its own log, following it while the run is live.
struct RunPage {
    let view: WebView
    let runID: String

    func render() throws -> String {
        let tracker = Tracker(store: view.store)
        let found: RunRecord
        do { found = try tracker.resolve(runID, kind: nil) } catch { throw PageNotFound(message: "No run \(runID): \(error)") }
        let run = found
        let (children, params, metrics) = try view.store.read { tx in
            (try Tracker.children(tx, of: run.id), try Tracker.params(tx, of: [run.id])[run.id] ?? [:],
             try RunSearch.latestMetrics(tx, runIDs: [run.id])[run.id] ?? [])
        }
        var context: [String: Any] = ["title": run.name ?? run.shortID, "base": view.base, "nav": view.nav("Runs")]
        context["id"] = run.id
        context["name"] = run.name ?? run.shortID
        context["status"] = run.status.rawValue
        context["started"] = Formatting.timestamp(millis: run.startTime)
        context["duration"] = Formatting.duration(millis: run.durationMillis)
        if let job = run.job { context["job"] = job }
        if let parent = run.parentRunID { context["parent"] = parent }
        if let message = run.message { context["message"] = message }
        if let artifacts = run.artifactURI { context["artifacts"] = artifacts }
        let stages = children.sorted { ($0.startTime ?? 0, $0.attempt ?? 0) < ($1.startTime ?? 0, $1.attempt ?? 0) }
        context["hasStages"] = !stages.isEmpty
        context["stages"] = stages.map(Self.stageRow)
        if run.kind == .job, let job = run.job, let spec = try? SpecParser.load(path: view.workspace.specPath), let jobSpec = spec.job(named: job) {
            context["dag"] = StageDiagram.svg(jobSpec, attempts: stages, base: view.base)
        }
        context["hasParams"] = !params.isEmpty
        context["params"] = params.sorted { $0.key < $1.key }.map { ["key": $0.key, "value": $0.value] }
        context["hasMetrics"] = !metrics.isEmpty
        context["metrics"] = try metrics.sorted { $0.key < $1.key }.map { point in
            let buckets = try view.store.read { try Tracker.metricBuckets($0, run.id, key: point.key, buckets: MetricChart.buckets) }
            var row: [String: Any] = ["key": point.key, "value": Formatting.number(point.value), "chart": MetricChart.sparkline(buckets, key: point.key)]
            row["csv"] = "\(view.base)/runs/\(run.id)/metrics/\(point.key.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? point.key).csv"
            return row
        }
        if run.kind != .job || children.isEmpty {
            let log = try RunLog(view: view, run: run).tail()
            context["log"] = ["text": log.text, "offset": log.offset, "live": log.live] as [String: Any]
        }
        return view.templates.render("run", context)
    }

    static func stageRow(_ child: RunRecord) -> [String: Any] {
        var row: [String: Any] = ["id": child.id, "name": child.name ?? child.stage ?? child.shortID, "attempt": child.attempt ?? 0]
        row["status"] = child.outcome?.rawValue.uppercased() ?? child.status.rawValue
        row["started"] = Formatting.timestamp(millis: child.startTime)
        row["duration"] = Formatting.duration(millis: child.durationMillis)
        row["message"] = child.message ?? ""
        return row
    }
}

import Foundation
import MLOpsCore
import MLOpsText

/// `/monitors`: the spec's monitors with their state; `/monitors/NAME`: its last 500 evaluations
/// as charts (the hit rate with its interval against the baseline, the CUSUM against its
/// threshold, the evaluations that asked for a retrain marked), the last drift per feature, and
/// the retrains it asked for.
struct MonitorsPage {
    let view: WebView
    static let evaluations = 500

    func render() throws -> String {
        let spec = try? SpecParser.load(path: view.workspace.specPath)
        let states = Dictionary(try view.store.read { try MonitorRecords.all($0) }.map { ($0.monitor, $0) }, uniquingKeysWith: { a, _ in a })
        var context: [String: Any] = ["title": "Monitors", "base": view.base, "nav": view.nav("Monitors")]
        context["monitors"] = (spec?.monitors ?? []).map { monitor in
            let state = states[monitor.name]
            return ["name": monitor.name, "model": monitor.model, "method": monitor.method.rawValue,
                    "baseline": state?.baseline.map(Formatting.number) ?? "", "decision": state?.lastDecision ?? "",
                    "trigger": state?.lastTriggerTime.map { Formatting.timestamp(millis: $0) } ?? "",
                    "updated": state.map { Formatting.timestamp(millis: $0.updatedTime) } ?? ""] as [String: Any]
        }
        return view.templates.render("monitors", context)
    }

    func render(monitor name: String) throws -> String {
        guard let monitor = (try? SpecParser.load(path: view.workspace.specPath))?.monitors.first(where: { $0.name == name }) else {
            throw PageNotFound(message: "No monitor \(name) in jobs.yaml")
        }
        var search = RunSearch(kind: .monitor, job: name, limit: Self.evaluations)
        search.orderBy = try RunSearch.OrderTerm.parseList("start_time DESC")
        let (runs, metrics, tags) = try view.store.read { tx in
            let runs = Array(try search.run(tx).reversed())
            return (runs, try RunSearch.latestMetrics(tx, runIDs: runs.map(\.id)), try Tracker.tags(tx, of: runs.map(\.id)))
        }
        func series(_ key: String) -> [(Int64, Double)] {
            runs.compactMap { run in metrics[run.id]?.first { $0.key == key }.map { (run.startTime ?? 0, $0.value) } }
        }
        let triggered = runs.filter { tags[$0.id]?["mlops.should_trigger"] == "true" }
        let state = try view.store.read { try MonitorRecords.state($0, name) }
        var context: [String: Any] = ["title": name, "base": view.base, "nav": view.nav("Monitors"), "name": name, "model": monitor.model,
                                      "evaluations": "\(runs.count) evaluation\(runs.count == 1 ? "" : "s")"]
        if let decision = state?.lastDecision { context["decision"] = decision }
        let marks = triggered.compactMap(\.startTime)
        context["hitRateChart"] = TimeChart(lines: [("hit rate", series("hit_rate"), "#0b6bcb"), ("baseline", series("baseline"), "#9aa5b1")],
                                            band: (series("hit_rate_lower"), series("hit_rate_upper")), marks: marks).svg()
        let threshold = series("cusum").map { ($0.0, monitor.cusumThreshold) }
        context["cusumChart"] = TimeChart(lines: [("CUSUM", series("cusum"), "#a15c00"), ("threshold", threshold, "#c62828")], band: nil, marks: marks).svg()
        let last = runs.last.flatMap { metrics[$0.id] } ?? []
        let drift = last.filter { $0.key.hasPrefix("psi_") }.sorted { $0.value > $1.value }
        context["hasDrift"] = !drift.isEmpty
        context["drift"] = drift.map { ["feature": String($0.key.dropFirst(4)), "psi": Formatting.number($0.value)] }
        context["hasTriggers"] = !triggered.isEmpty
        context["triggers"] = triggered.reversed().map { run in
            ["time": Formatting.timestamp(millis: run.startTime), "id": run.id, "short": run.shortID, "message": run.message ?? ""] as [String: Any]
        }
        return view.templates.render("monitor", context)
    }
}

/// A chart over time: lines, an optional band (an interval) under them, and vertical marks.
struct TimeChart {
    var lines: [(name: String, points: [(Int64, Double)], colour: String)]
    var band: (lower: [(Int64, Double)], upper: [(Int64, Double)])?
    var marks: [Int64]
    var width = 720.0
    var height = 180.0

    func svg() -> String {
        let all = lines.flatMap(\.points) + (band?.lower ?? []) + (band?.upper ?? [])
        guard let t0 = all.map(\.0).min(), let t1 = all.map(\.0).max(), let v0 = all.map(\.1).min(), let v1 = all.map(\.1).max() else {
            return "<p class=\"muted\">No evaluations yet.</p>"
        }
        let (low, high) = v1 > v0 ? (v0, v1) : (v0 - 1, v1 + 1)
        func x(_ t: Int64) -> Double { t1 > t0 ? 50 + Double(t - t0) / Double(t1 - t0) * (width - 60) : width / 2 }
        func y(_ v: Double) -> Double { height - 20 - (v - low) / (high - low) * (height - 30) }
        func path(_ points: [(Int64, Double)]) -> String { points.map { String(format: "%.1f,%.1f", x($0.0), y($0.1)) }.joined(separator: " ") }
        var out = "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" font-size=\"11\" font-family=\"system-ui, sans-serif\" aria-label=\"\(TextEscaping.xml(lines.map(\.name).joined(separator: ", ")))\">"
        out += "<text x=\"2\" y=\"\(Int(y(high)) + 4)\">\(Formatting.number(high))</text><text x=\"2\" y=\"\(Int(y(low)) + 4)\">\(Formatting.number(low))</text>"
        if let band, !band.lower.isEmpty, band.lower.count == band.upper.count {
            out += "<polygon fill=\"#e8f1fb\" stroke=\"none\" points=\"\(path(band.upper)) \(path(band.lower.reversed()))\"/>"
        }
        for mark in marks { out += String(format: "<line x1=\"%.1f\" y1=\"10\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c62828\" stroke-dasharray=\"3 3\"/>", x(mark), x(mark), height - 20) }
        for line in lines where line.points.count > 0 {
            out += "<polyline fill=\"none\" stroke=\"\(line.colour)\" stroke-width=\"1.5\" points=\"\(path(line.points))\"><title>\(TextEscaping.xml(line.name))</title></polyline>"
        }
        out += "<text x=\"50\" y=\"\(Int(height) - 4)\">\(TextEscaping.xml(Formatting.timestamp(millis: t0)))</text>"
        out += "<text x=\"\(Int(width) - 130)\" y=\"\(Int(height) - 4)\">\(TextEscaping.xml(Formatting.timestamp(millis: t1)))</text>"
        return out + "</svg>"
    }
}

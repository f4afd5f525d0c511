import Foundation
import MLOpsCore
import MLOpsText

/// `/compare?run=A&run=B…`: up to 12 runs side by side: each metric's history overlaid (one colour
/// a run, summarised in the database like a run's own charts), a parallel-coordinates view from
/// the numeric params to the metrics, and every param and latest metric in one table.
struct ComparePage {
    let view: WebView
    let ids: [String]
    static let most = 12
    static let colours = ["#0b6bcb", "#c62828", "#1a7f37", "#a15c00", "#6f42c1", "#00838f", "#ad1457", "#5d4037", "#546e7a", "#827717", "#283593", "#d84315"]

    func render() throws -> String {
        let tracker = Tracker(store: view.store)
        var runs: [RunRecord] = []
        for id in ids.prefix(Self.most) {
            do { runs.append(try tracker.resolve(id, kind: nil)) } catch { throw PageNotFound(message: "No run \(id): \(error)") }
        }
        guard !runs.isEmpty else { throw PageNotFound(message: "Name the runs to compare: /compare?run=ID&run=ID") }
        let runIDs = runs.map(\.id)
        let (params, metrics) = try view.store.read { tx in (try Tracker.params(tx, of: runIDs), try RunSearch.latestMetrics(tx, runIDs: runIDs)) }
        var context: [String: Any] = ["title": "Compare", "base": view.base, "nav": view.nav("Runs"), "count": runs.count]
        context["runs"] = runs.enumerated().map { i, run in
            ["id": run.id, "label": "\(run.name ?? run.shortID) \(run.shortID)", "colour": Self.colours[i % Self.colours.count]] as [String: Any]
        }
        let paramKeys = Set(params.values.flatMap(\.keys)).sorted()
        let metricKeys = Set(metrics.values.flatMap { $0.map(\.key) }).sorted()
        func metric(_ run: String, _ key: String) -> Double? { metrics[run]?.first { $0.key == key }?.value }
        context["rows"] = paramKeys.map { key in ["key": "params.\(key)", "values": runIDs.map { params[$0]?[key] ?? "" }] as [String: Any] }
            + metricKeys.map { key in ["key": "metrics.\(key)", "values": runIDs.map { metric($0, key).map(Formatting.number) ?? "" }] as [String: Any] }
        var charts: [[String: Any]] = []
        for key in metricKeys {
            let series = try runIDs.enumerated().map { i, id in
                (try view.store.read { try Tracker.metricBuckets($0, id, key: key, buckets: MetricChart.buckets) }, Self.colours[i % Self.colours.count])
            }
            if series.contains(where: { $0.0.reduce(0) { $0 + $1.count } > 1 }) { charts.append(["key": key, "svg": MetricChart.overlaid(series, key: key)]) }
        }
        context["hasCharts"] = !charts.isEmpty
        context["charts"] = charts
        // Numeric params, then metrics: one axis each, one line a run.
        let axes: [(String, [Double?])] = paramKeys.compactMap { key in
            let values = runIDs.map { params[$0]?[key].flatMap(Double.init) }
            // A param is an axis when some run's value is a number.
            return values.contains { $0 != nil } ? ("params.\(key)", values) : nil
        } + metricKeys.map { key in ("metrics.\(key)", runIDs.map { metric($0, key) }) }
        if axes.count >= 2, runs.count >= 2 { context["parallel"] = Self.parallel(axes, colours: runIDs.indices.map { Self.colours[$0 % Self.colours.count] }) }
        return view.templates.render("compare", context)
    }

    /// Parallel coordinates: each axis scaled to its own range; a run missing a value breaks its line there.
    static func parallel(_ axes: [(String, [Double?])], colours: [String], height: Double = 260) -> String {
        let gap = 130.0
        let width = 40 + gap * Double(axes.count - 1) + 40
        func y(_ value: Double, _ values: [Double?]) -> Double {
            let known = values.compactMap { $0 }
            guard let low = known.min(), let high = known.max(), high > low else { return height / 2 }
            return height - 30 - (value - low) / (high - low) * (height - 60)
        }
        var out = "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"parallel coordinates\" font-size=\"11\" font-family=\"system-ui, sans-serif\">"
        for (i, axis) in axes.enumerated() {
            let x = 40 + gap * Double(i)
            out += String(format: "<line x1=\"%.0f\" y1=\"30\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#9aa5b1\"/>", x, x, height - 30)
            out += String(format: "<text x=\"%.0f\" y=\"18\" text-anchor=\"middle\">", x) + TextEscaping.xml(axis.0) + "</text>"
        }
        for run in colours.indices {
            var segments: [[String]] = [[]]
            for (i, axis) in axes.enumerated() {
                guard let value = axis.1[run] else { segments.append([]); continue }
                segments[segments.count - 1].append(String(format: "%.1f,%.1f", 40 + gap * Double(i), y(value, axis.1)))
            }
            for segment in segments where segment.count > 1 {
                out += "<polyline fill=\"none\" stroke=\"\(colours[run])\" stroke-width=\"1.5\" points=\"\(segment.joined(separator: " "))\"/>"
            }
        }
        return out + "</svg>"
    }
}

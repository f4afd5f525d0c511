import Foundation

/// `mlops runs --csv`: what MLflow's UI offers as "Download CSV", one line a run with a column
/// for each param, metric and tag any of them has. Names, params and tags come from users (and
/// from any client of the MLflow API), so every field goes through `TextEscaping.csvField`.
public enum RunsCSV {
    public static func table(_ runs: [RunRecord], details: [String: RunDetails]) -> TextTable {
        func keys(_ pick: (RunDetails) -> [String]) -> [String] {
            Array(Set(runs.flatMap { details[$0.id].map(pick) ?? [] })).sorted()
        }
        let params = keys { $0.params.map(\.key) }
        let metrics = keys { $0.metrics.map(\.key) }
        let tags = keys { $0.tags.map(\.key) }
        var columns = ["run_id", "name", "job", "status", "trigger", "start_time", "duration_ms"].map { TextTable.Column($0) }
        columns += params.map { .init("params.\($0)") } + metrics.map { .init("metrics.\($0)") } + tags.map { .init("tags.\($0)") }
        var table = TextTable(columns)
        // One formatter for the file: UTC, ISO 8601 with milliseconds, for programs that read it.
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for run in runs {
            let detail = details[run.id] ?? RunDetails()
            let paramValues = Dictionary(detail.params.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            let metricValues = Dictionary(detail.metrics.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            let tagValues = Dictionary(detail.tags.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            var row: [String] = [run.id, run.name ?? "", run.job ?? "", run.status.rawValue, run.trigger?.rawValue ?? "",
                                 run.startTime.map { iso.string(from: Date(timeIntervalSince1970: Double($0) / 1000)) } ?? "", run.durationMillis.map(String.init) ?? ""]
            row += params.map { paramValues[$0] ?? "" }
            row += metrics.map { metricValues[$0].map { $0.isNaN ? "NaN" : String($0) } ?? "" }
            row += tags.map { tagValues[$0] ?? "" }
            table.append(row.map { TextTable.Cell($0) })
        }
        return table
    }
}

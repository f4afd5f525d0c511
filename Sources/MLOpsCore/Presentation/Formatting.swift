import Foundation

/// How times, durations and numbers read in a terminal.
public enum Formatting {
    /// `0.42s`, `12.3s`, `4m05s`, `2h03m`.
    public static func duration(millis: Int64?) -> String {
        guard let ms = millis else { return "-" }
        if ms < 1000 { return String(format: "%.2fs", Double(ms) / 1000) }
        if ms < 60_000 { return String(format: "%.1fs", Double(ms) / 1000) }
        let seconds = ms / 1000
        if seconds < 3600 { return String(format: "%dm%02ds", seconds / 60, seconds % 60) }
        return String(format: "%dh%02dm", seconds / 3600, (seconds % 3600) / 60)
    }

    /// Local time, `2026-11-23 10:40:01`.
    public static func timestamp(millis: Int64?) -> String {
        guard let ms = millis else { return "-" }
        let date = Date(timeIntervalSince1970: Double(ms) / 1000)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .current
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    /// `key=value key=value`, sorted by key, escaped for a terminal.
    public static func pairs(_ pairs: some Sequence<(key: String, value: String)>) -> String {
        pairs.sorted { $0.key < $1.key }.map { TextEscaping.terminal("\($0.key)=\($0.value)") }.joined(separator: " ")
    }

    /// `key=value` for metrics, keys escaped for a terminal.
    public static func metricPairs(_ points: [MetricPoint]) -> String {
        points.map { "\(TextEscaping.terminal($0.key))=\(number($0.value))" }.joined(separator: " ")
    }

    /// A metric value short enough for a table, exact enough to compare.
    public static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == value.rounded(), abs(value) < 1e12 { return String(Int64(value)) }
        let magnitude = abs(value)
        if magnitude >= 1e-3 && magnitude < 1e6 {
            var text = String(format: "%.4f", value)
            while text.hasSuffix("0") { text.removeLast() }
            return text
        }
        return String(format: "%.4g", value)
    }

    public static func statusColor(_ status: RunStatus) -> Console.Color {
        switch status {
        case .finished: return .green
        case .failed: return .red
        case .killed: return .yellow
        case .running, .scheduled: return .cyan
        }
    }
}

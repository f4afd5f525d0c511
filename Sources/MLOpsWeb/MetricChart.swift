import Foundation
import MLOpsCore
import MLOpsText

/// Metric charts drawn as SVG on the server. A history of any length is summarised in the
/// database into at most 100 spans of steps (`Tracker.metricBuckets`), each drawn from its lowest
/// to its highest value, so a spike survives however many points there are and the drawing stays a
/// few KB. The page links the whole history as CSV.
enum MetricChart {
    static let buckets = 100

    /// A small line chart (160×32) of a metric's history, or an empty string for a single value.
    static func sparkline(_ buckets: [MetricBucket], key: String, width: Double = 160, height: Double = 32) -> String {
        guard buckets.count > 1 || buckets.first.map({ $0.count > 1 }) == true,
              let low = buckets.map(\.low).min(), let high = buckets.map(\.high).max(),
              let x0 = buckets.first?.firstStep, let x1 = buckets.last?.lastStep else { return "" }
        func x(_ step: Int64) -> Double { x1 > x0 ? Double(step - x0) / Double(x1 - x0) * (width - 2) + 1 : width / 2 }
        func y(_ value: Double) -> Double { high > low ? height - 1 - (value - low) / (high - low) * (height - 2) : height / 2 }
        let points = polyline(buckets, x: x, y: y)
        let total = buckets.reduce(0) { $0 + $1.count }
        return "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(TextEscaping.xml(key)) over \(total) points\">"
            + "<polyline fill=\"none\" stroke=\"#0b6bcb\" stroke-width=\"1.2\" points=\"\(points)\"/></svg>"
    }

    /// A bucketed history as polyline points: each span from its high at its first step to its low at its last.
    static func polyline(_ buckets: [MetricBucket], x: (Int64) -> Double, y: (Double) -> Double) -> String {
        var points: [String] = []
        for bucket in buckets {
            points.append(String(format: "%.1f,%.1f", x(bucket.firstStep), y(bucket.high)))
            if bucket.count > 1 { points.append(String(format: "%.1f,%.1f", x(bucket.lastStep), y(bucket.low))) }
        }
        return points.joined(separator: " ")
    }

    /// Several runs' histories of one metric on shared axes (480×160), a colour each.
    static func overlaid(_ series: [([MetricBucket], String)], key: String, width: Double = 480, height: Double = 160) -> String {
        let all = series.flatMap(\.0)
        guard let low = all.map(\.low).min(), let high = all.map(\.high).max(),
              let x0 = all.map(\.firstStep).min(), let x1 = all.map(\.lastStep).max() else { return "" }
        func x(_ step: Int64) -> Double { x1 > x0 ? 40 + Double(step - x0) / Double(x1 - x0) * (width - 50) : width / 2 }
        func y(_ value: Double) -> Double { high > low ? height - 20 - (value - low) / (high - low) * (height - 30) : height / 2 }
        var out = "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(TextEscaping.xml(key)) by run\" font-size=\"11\" font-family=\"system-ui, sans-serif\">"
        out += "<text x=\"2\" y=\"\(Int(y(high)) + 4)\">\(Formatting.number(high))</text><text x=\"2\" y=\"\(Int(y(low)) + 4)\">\(Formatting.number(low))</text>"
        for (buckets, colour) in series where !buckets.isEmpty {
            out += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\" points=\"\(polyline(buckets, x: x, y: y))\"/>"
        }
        return out + "<text x=\"40\" y=\"\(Int(height) - 4)\">step \(x0)</text><text x=\"\(Int(width) - 80)\" y=\"\(Int(height) - 4)\">step \(x1)</text></svg>"
    }
}

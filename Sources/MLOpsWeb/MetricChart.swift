import Foundation
import MLOpsCore
import MLOpsText

/// Metric charts drawn as SVG on the server. A history of any length is cut to at most `buckets`
/// buckets by step, each keeping its first, lowest, highest and last point, so a spike survives
/// however many points there are and the drawing stays a few KB.
enum MetricChart {
    static func downsample(_ points: [MetricPoint], buckets: Int) -> [MetricPoint] {
        let finite = points.filter { $0.value.isFinite }
        guard finite.count > buckets * 4, let first = finite.first, let last = finite.last else { return finite }
        let span = Double(max(1, last.step - first.step))
        var out: [MetricPoint] = []
        var bucket: [MetricPoint] = []
        var index = 0
        func flush() {
            guard let a = bucket.first, let z = bucket.last,
                  let low = bucket.min(by: { $0.value < $1.value }), let high = bucket.max(by: { $0.value < $1.value }) else { return }
            var kept = [a, low, high, z]
            kept.sort { ($0.step, $0.timestamp) < ($1.step, $1.timestamp) }
            for point in kept where out.last.map({ $0.step != point.step || $0.value != point.value || $0.timestamp != point.timestamp }) ?? true { out.append(point) }
            bucket.removeAll(keepingCapacity: true)
        }
        for point in finite {
            let b = min(buckets - 1, Int(Double(point.step - first.step) / span * Double(buckets)))
            if b != index { flush(); index = b }
            bucket.append(point)
        }
        flush()
        return out
    }

    /// A small line chart (160×32) of a metric's history, or an empty string for a single value.
    static func sparkline(_ history: [MetricPoint], width: Double = 160, height: Double = 32) -> String {
        let points = downsample(history, buckets: 100)
        guard points.count > 1, let low = points.map(\.value).min(), let high = points.map(\.value).max() else { return "" }
        let steps = points.map { Double($0.step) }
        let (x0, x1) = (steps.min() ?? 0, steps.max() ?? 1)
        let xs = x1 > x0 ? steps.map { ($0 - x0) / (x1 - x0) * (width - 2) + 1 } : points.indices.map { Double($0) / Double(points.count - 1) * (width - 2) + 1 }
        let ys = points.map { high > low ? height - 1 - ($0.value - low) / (high - low) * (height - 2) : height / 2 }
        let path = zip(xs, ys).map { String(format: "%.1f,%.1f", $0, $1) }.joined(separator: " ")
        return "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(TextEscaping.xml(history.first?.key ?? "")) over \(history.count) points\">"
            + "<polyline fill=\"none\" stroke=\"#0b6bcb\" stroke-width=\"1.2\" points=\"\(path)\"/></svg>"
    }
}

/// A numeric feature's training distribution kept small: the shares of the training rows in bins
/// cut at its deciles (bin i holds edges[i-1] < v ≤ edges[i]). Discrete features, whose deciles
/// repeat, get fewer bins with their true shares rather than a pretended 10% each.
public struct FeatureHistogram: Sendable, Codable, Equatable {
    public var edges: [Double]
    public var shares: [Double]

    /// From the sorted, NaN-free training values.
    public init(reference sorted: [Double]) {
        var edges: [Double] = []
        for q in 1..<10 {
            let edge = sorted[min(sorted.count - 1, Int(Double(q) / 10 * Double(sorted.count)))]
            if edges.last != edge { edges.append(edge) }
        }
        if edges.last == sorted.last { edges.removeLast() }
        self.edges = edges
        let counts = Self.counts(sorted, edges: edges)
        shares = counts.map { $0 / Double(max(1, sorted.count)) }
    }

    /// How many of `values` (NaNs left out) fall in each bin.
    public func counts(_ values: [Double]) -> [Double] { Self.counts(values, edges: edges) }

    static func counts(_ values: [Double], edges: [Double]) -> [Double] {
        var counts = [Double](repeating: 0, count: edges.count + 1)
        for v in values where !v.isNaN {
            var low = 0, high = edges.count
            while low < high { let mid = (low + high) / 2; if v <= edges[mid] { high = mid } else { low = mid + 1 } }
            counts[low] += 1
        }
        return counts
    }
}

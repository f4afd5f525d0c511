import Foundation

/// The two-sample tests a drift report runs per column: Kolmogorov–Smirnov for numbers, a
/// chi-square test of homogeneity for categories, and the population stability index for both.
public enum TwoSampleTests {
    public struct Result: Sendable, Hashable, Codable {
        public var statistic: Double
        public var pValue: Double
    }

    /// Two-sample Kolmogorov–Smirnov: the largest gap between the empirical CDFs, with a two-sided
    /// p-value as scipy's `ks_2samp` gives it by default: the exact distribution of D while neither
    /// sample exceeds 10,000 rows, else the limiting Kolmogorov distribution at √(nm/(n+m))·D
    /// (`kstwobign`). At 20 + 20 rows the two differ by half. NaNs are ignored.
    public static func kolmogorovSmirnov(_ a: [Double], _ b: [Double]) -> Result {
        let x = a.filter { !$0.isNaN }.sorted(), y = b.filter { !$0.isNaN }.sorted()
        guard !x.isEmpty, !y.isEmpty else { return Result(statistic: 0, pValue: 1) }
        var i = 0, j = 0, d = 0.0
        let n = Double(x.count), m = Double(y.count)
        while i < x.count, j < y.count {
            let v = min(x[i], y[j])
            while i < x.count, x[i] <= v { i += 1 }
            while j < y.count, y[j] <= v { j += 1 }
            d = max(d, abs(Double(i) / n - Double(j) / m))
        }
        let limiting = kolmogorovQ((n * m / (n + m)).squareRoot() * d)
        return Result(statistic: d, pValue: exactKSPValue(x.count, y.count, statistic: d, limiting: limiting) ?? limiting)
    }

    /// scipy's bound for the exact distribution (`MAX_AUTO_N`).
    static let exactLimit = 10_000

    /// P(D ≥ d) for samples of `a` and `b` rows, exactly: one minus the share of the C(a+b, a)
    /// orderings whose path through the a×b lattice stays strictly inside the band |i/a − j/b| < d.
    /// Each cell holds the probability that a uniformly random ordering reaches it inside the band,
    /// so nothing overflows, and only the band is visited: the cost is about 2·d·a·b cells. Nil
    /// past the bound; the limiting value stands where it says the answer is below 1e-12 and the
    /// lattice is large, since both agree it is nil in practice.
    static func exactKSPValue(_ a: Int, _ b: Int, statistic d: Double, limiting: Double) -> Double? {
        guard max(a, b) <= exactLimit, d > 0 else { return d > 0 ? nil : 1 }
        if limiting < 1e-12, a * b > 1_000_000 { return nil }
        // D·a·b is a whole number: the gap at a lattice point is |i·b − j·a| / (a·b).
        let h = Int((d * Double(a) * Double(b)).rounded())
        let total = a + b
        // Two rows of the lattice in turn; each keeps zeros outside the band it was last written in.
        var previous = [Double](repeating: 0, count: b + 1), current = previous
        previous[0] = 1
        var previousBand = 0...0
        var j = 1
        while j <= b, j * a < h {  // row 0: only the second sample's values so far
            previous[j] = previous[j - 1] * Double(b - j + 1) / Double(total - j + 1)
            previousBand = 0...j
            j += 1
        }
        var staleBand: ClosedRange<Int>?
        for i in 1...a {
            let low = i * b - h < 0 ? 0 : (i * b - h) / a + 1
            let high = min(b, (i * b + h - 1) / a)
            // A row with no cell inside the band: every ordering leaves it.
            guard low <= high else { return 1 }
            if let staleBand { for k in staleBand { current[k] = 0 } }
            for k in low...high {
                // From (i − 1, k) the next value is the first sample's, from (i, k − 1) the second's.
                var p = previous[k] * Double(a - i + 1) / Double(total - i + 1 - k)
                if k > low { p += current[k - 1] * Double(b - k + 1) / Double(total - i - k + 1) }
                current[k] = p
            }
            swap(&previous, &current)
            staleBand = previousBand
            previousBand = low...high
        }
        return min(1, max(0, 1 - previous[b]))
    }

    /// Q_KS(λ) = 2 Σ (−1)^(k−1) exp(−2 k² λ²).
    public static func kolmogorovQ(_ lambda: Double) -> Double {
        guard lambda > 0.05 else { return 1 }
        var sum = 0.0, sign = 1.0
        for k in 1...100 {
            let term = sign * exp(-2 * Double(k * k) * lambda * lambda)
            sum += term
            if abs(term) < 1e-12 { break }
            sign = -sign
        }
        return min(1, max(0, 2 * sum))
    }

    /// Chi-square test that two samples of categories come from one distribution (a 2 × k table).
    public static func chiSquare(_ a: [String], _ b: [String]) -> Result {
        var countA: [String: Double] = [:], countB: [String: Double] = [:]
        for v in a { countA[v, default: 0] += 1 }
        for v in b { countB[v, default: 0] += 1 }
        return chiSquare(counts: countA, countB)
    }

    /// The same test from the two samples' counts per category.
    public static func chiSquare(counts countA: [String: Double], _ countB: [String: Double]) -> Result {
        let levels = Array(Set(countA.keys).union(countB.keys))
        let n = countA.values.reduce(0, +), m = countB.values.reduce(0, +), total = n + m
        guard levels.count > 1, n > 0, m > 0 else { return Result(statistic: 0, pValue: 1) }
        var statistic = 0.0
        for level in levels {
            let column = countA[level, default: 0] + countB[level, default: 0]
            guard column > 0 else { continue }
            for (observed, rowTotal) in [(countA[level, default: 0], n), (countB[level, default: 0], m)] {
                let expected = rowTotal * column / total
                statistic += (observed - expected) * (observed - expected) / expected
            }
        }
        return Result(statistic: statistic, pValue: chiSquareSurvival(statistic, degrees: Double(levels.count - 1)))
    }

    /// P(X > x) for a chi-square with `degrees` of freedom: the regularized upper incomplete gamma.
    public static func chiSquareSurvival(_ x: Double, degrees: Double) -> Double {
        guard x > 0 else { return 1 }
        return upperGamma(degrees / 2, x / 2)
    }

    /// Q(s, x), by its series below s + 1 and its continued fraction above (Numerical Recipes, 6.2).
    static func upperGamma(_ s: Double, _ x: Double) -> Double {
        let logPrefix = s * log(x) - x - lgamma(s)
        if x < s + 1 {
            var term = 1 / s, sum = term, a = s
            for _ in 0..<500 {
                a += 1
                term *= x / a
                sum += term
                if abs(term) < abs(sum) * 1e-15 { break }
            }
            return max(0, 1 - sum * exp(logPrefix))
        }
        var b = x + 1 - s, c = 1 / 1e-300, d = 1 / b, h = d
        for i in 1...500 {
            let an = -Double(i) * (Double(i) - s)
            b += 2
            d = an * d + b
            if abs(d) < 1e-300 { d = 1e-300 }
            c = b + an / c
            if abs(c) < 1e-300 { c = 1e-300 }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return min(1, exp(logPrefix) * h)
    }

    /// The population stability index of `current` against `reference`: Σ (c − r) ln(c / r) over
    /// the reference's decile bins (numbers) or the categories, each share floored at 0.0001 so an
    /// empty bin does not make it infinite.
    public static func psi(reference: [Double], current: [Double], bins: Int = 10) -> Double {
        let ref = reference.filter { !$0.isNaN }.sorted(), cur = current.filter { !$0.isNaN }
        guard !ref.isEmpty, !cur.isEmpty else { return 0 }
        var edges: [Double] = []
        for q in 1..<bins {
            let edge = ref[min(ref.count - 1, Int(Double(q) / Double(bins) * Double(ref.count)))]
            if edges.last != edge { edges.append(edge) }
        }
        func shares(_ values: [Double]) -> [Double] {
            var counts = [Double](repeating: 0, count: edges.count + 1)
            for v in values {
                var low = 0, high = edges.count
                while low < high { let mid = (low + high) / 2; if v < edges[mid] { high = mid } else { low = mid + 1 } }
                counts[low] += 1
            }
            return counts.map { $0 / Double(values.count) }
        }
        return index(shares(ref), shares(cur))
    }

    public static func psi(reference: [String], current: [String]) -> Double {
        guard !reference.isEmpty, !current.isEmpty else { return 0 }
        let levels = Array(Set(reference).union(current))
        func shares(_ values: [String]) -> [Double] {
            var counts: [String: Double] = [:]
            for v in values { counts[v, default: 0] += 1 }
            return levels.map { counts[$0, default: 0] / Double(values.count) }
        }
        return index(shares(reference), shares(current))
    }

    public static func index(_ reference: [Double], _ current: [Double]) -> Double {
        zip(reference, current).reduce(0) { sum, pair in
            let r = max(pair.0, 1e-4), c = max(pair.1, 1e-4)
            return sum + (c - r) * log(c / r)
        }
    }
}

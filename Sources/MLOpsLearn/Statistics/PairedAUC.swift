import Foundation

/// Two models' AUCs on the same rows compared by DeLong's method: the variance of the difference
/// comes from each row's placement values (Sun & Xu's mid-rank form, O(n log n)), so "the
/// candidate's AUC is not worse by more than a margin" is a statement with a confidence.
public struct PairedAUC: Sendable, Hashable, Codable {
    public var candidateAUC: Double
    public var referenceAUC: Double
    public var difference: Double
    /// Standard error of the difference.
    public var standardError: Double
    public var lower: Double
    public var upper: Double
    public var verdict: Verdict
    public var reason: String

    public static func compare(candidate: [Double], reference: [Double], labels: [Bool], margin: Double,
                               alpha: Double = 0.05, minPositives: Int = 10) -> PairedAUC {
        precondition(candidate.count == labels.count && reference.count == labels.count, "scores and labels differ in length")
        let positives = labels.indices.filter { labels[$0] }
        let negatives = labels.indices.filter { !labels[$0] }
        let m = positives.count, n = negatives.count
        guard m >= max(2, minPositives), n >= 2 else {
            return PairedAUC(candidateAUC: .nan, referenceAUC: .nan, difference: .nan, standardError: .nan, lower: -1, upper: 1,
                             verdict: .insufficient, reason: "\(m) positives and \(n) negatives; at least \(max(2, minPositives)) and 2 are needed")
        }
        let a = placements(candidate, positives, negatives)
        let b = placements(reference, positives, negatives)
        func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }
        func covariance(_ x: [Double], _ y: [Double]) -> Double {
            let mx = mean(x), my = mean(y)
            return zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) } / Double(x.count - 1)
        }
        let aucA = mean(a.v10), aucB = mean(b.v10)
        let variance = (covariance(a.v10, a.v10) + covariance(b.v10, b.v10) - 2 * covariance(a.v10, b.v10)) / Double(m)
            + (covariance(a.v01, a.v01) + covariance(b.v01, b.v01) - 2 * covariance(a.v01, b.v01)) / Double(n)
        let se = max(0, variance).squareRoot()
        let difference = aucA - aucB
        let z = Normal.quantile(1 - alpha)
        let lower = difference - z * se, upper = difference + z * se
        let shown = { (x: Double) in String(format: "%.4f", x) }
        let verdict: Verdict = lower > -margin ? .pass : upper < -margin ? .fail : .insufficient
        let reason: String
        switch verdict {
        case .pass: reason = "AUC \(shown(aucA)) vs \(shown(aucB)): not worse by \(shown(margin)) (lower bound \(shown(lower)), DeLong)"
        case .fail: reason = "AUC \(shown(aucA)) vs \(shown(aucB)): worse by more than \(shown(margin)) (upper bound \(shown(upper)), DeLong)"
        case .insufficient: reason = "AUC \(shown(aucA)) vs \(shown(aucB)): bounds \(shown(lower))…\(shown(upper)) straddle −\(shown(margin))"
        }
        return PairedAUC(candidateAUC: aucA, referenceAUC: aucB, difference: difference, standardError: se,
                         lower: lower, upper: upper, verdict: verdict, reason: reason)
    }

    /// Placement values: for each positive, the share of negatives it outranks (ties half); for
    /// each negative, the share of positives that outrank it.
    static func placements(_ scores: [Double], _ positives: [Int], _ negatives: [Int]) -> (v10: [Double], v01: [Double]) {
        let x = positives.map { scores[$0] }, y = negatives.map { scores[$0] }
        let tx = midRanks(x), ty = midRanks(y), tz = midRanks(x + y)
        let m = Double(x.count), n = Double(y.count)
        let v10 = x.indices.map { (tz[$0] - tx[$0]) / n }
        let v01 = y.indices.map { 1 - (tz[x.count + $0] - ty[$0]) / m }
        return (v10, v01)
    }

    /// 1-based ranks, ties sharing their mean.
    static func midRanks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: values.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count, values[order[j + 1]] == values[order[i]] { j += 1 }
            for k in i...j { ranks[order[k]] = Double(i + j + 2) / 2 }
            i = j + 1
        }
        return ranks
    }
}

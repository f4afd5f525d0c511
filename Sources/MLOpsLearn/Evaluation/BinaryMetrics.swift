import Foundation

/// The textbook metrics of a binary classifier's scores against 0/1 labels. Each is written as its
/// definition reads, so that a test on a small vector checks it by hand.
public enum BinaryMetrics {
    /// Area under the ROC curve: the probability that a random positive outranks a random negative,
    /// ties counted half (Mann–Whitney U with mid-ranks). NaN when one class is absent.
    public static func auc(scores: [Double], labels: [Bool]) -> Double {
        precondition(scores.count == labels.count, "scores and labels differ in length")
        let positives = labels.reduce(0) { $0 + ($1 ? 1 : 0) }
        let negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { return .nan }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSumPositives = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count, scores[order[j + 1]] == scores[order[i]] { j += 1 }
            // Ranks i+1 … j+1 share their mean.
            let midRank = Double(i + j + 2) / 2
            for k in i...j where labels[order[k]] { rankSumPositives += midRank }
            i = j + 1
        }
        let p = Double(positives), n = Double(negatives)
        return (rankSumPositives - p * (p + 1) / 2) / (p * n)
    }

    /// Mean negative log-likelihood, probabilities clipped to [1e-15, 1 − 1e-15] as scikit-learn does.
    public static func logLoss(probabilities: [Double], labels: [Bool]) -> Double {
        precondition(probabilities.count == labels.count, "probabilities and labels differ in length")
        guard !labels.isEmpty else { return .nan }
        let eps = 1e-15
        var total = 0.0
        for (p, y) in zip(probabilities, labels) {
            let q = Swift.min(Swift.max(p, eps), 1 - eps)
            total -= y ? log(q) : log(1 - q)
        }
        return total / Double(labels.count)
    }

    /// Mean squared difference between probability and outcome.
    public static func brier(probabilities: [Double], labels: [Bool]) -> Double {
        precondition(probabilities.count == labels.count, "probabilities and labels differ in length")
        guard !labels.isEmpty else { return .nan }
        var total = 0.0
        for (p, y) in zip(probabilities, labels) {
            let d = p - (y ? 1 : 0)
            total += d * d
        }
        return total / Double(labels.count)
    }

    public struct Confusion: Sendable, Hashable {
        public var truePositives = 0, falsePositives = 0, trueNegatives = 0, falseNegatives = 0

        /// TP / (TP + FP); 0 when nothing is predicted positive.
        public var precision: Double {
            truePositives + falsePositives == 0 ? 0 : Double(truePositives) / Double(truePositives + falsePositives)
        }
        /// TP / (TP + FN); 0 when there is no positive.
        public var recall: Double {
            truePositives + falseNegatives == 0 ? 0 : Double(truePositives) / Double(truePositives + falseNegatives)
        }
        /// The harmonic mean of precision and recall; 0 when both are.
        public var f1: Double {
            let p = precision, r = recall
            return p + r == 0 ? 0 : 2 * p * r / (p + r)
        }
    }

    /// Counts with "positive" meaning probability ≥ threshold.
    public static func confusion(probabilities: [Double], labels: [Bool], threshold: Double) -> Confusion {
        var c = Confusion()
        for (p, y) in zip(probabilities, labels) {
            switch (p >= threshold, y) {
            case (true, true): c.truePositives += 1
            case (true, false): c.falsePositives += 1
            case (false, false): c.trueNegatives += 1
            case (false, true): c.falseNegatives += 1
            }
        }
        return c
    }

    /// The indices of the k highest scores, highest first; equal scores keep their input order, so
    /// the choice is reproducible.
    public static func topK(scores: [Double], k: Int) -> [Int] {
        let k = Swift.max(0, Swift.min(k, scores.count))
        return Array(scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }.prefix(k))
    }

    /// The share of the k highest-scored that are positive.
    public static func hitRateAtK(scores: [Double], labels: [Bool], k: Int) -> Double {
        let top = topK(scores: scores, k: k)
        guard !top.isEmpty else { return .nan }
        return Double(top.filter { labels[$0] }.count) / Double(top.count)
    }

    /// How many times the base rate the top k achieve.
    public static func liftAtK(scores: [Double], labels: [Bool], k: Int) -> Double {
        hitRateAtK(scores: scores, labels: labels, k: k) / baseRate(labels)
    }

    /// The share of positives.
    public static func baseRate(_ labels: [Bool]) -> Double {
        labels.isEmpty ? .nan : Double(labels.filter { $0 }.count) / Double(labels.count)
    }

    /// Expected calibration error over `bins` equal-width bins of [0, 1]: the count-weighted mean of
    /// |observed rate − mean probability| per bin (1.0 falls in the last bin).
    public static func expectedCalibrationError(probabilities: [Double], labels: [Bool], bins: Int = 10) -> Double {
        guard !labels.isEmpty, bins > 0 else { return .nan }
        var count = [Int](repeating: 0, count: bins)
        var sumP = [Double](repeating: 0, count: bins)
        var sumY = [Double](repeating: 0, count: bins)
        for (p, y) in zip(probabilities, labels) {
            let b = Swift.min(Swift.max(Int(p * Double(bins)), 0), bins - 1)
            count[b] += 1
            sumP[b] += p
            sumY[b] += y ? 1 : 0
        }
        var ece = 0.0
        for b in 0..<bins where count[b] > 0 {
            ece += Double(count[b]) / Double(labels.count) * abs(sumY[b] / Double(count[b]) - sumP[b] / Double(count[b]))
        }
        return ece
    }
}

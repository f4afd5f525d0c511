import Foundation
import Testing
@testable import MLOpsLearn

/// Each metric against its definition worked out by hand on a small fixed vector, to 1e-9.
@Suite struct BinaryMetricsTests {
    let p: [Double] = [0.9, 0.8, 0.8, 0.6, 0.4, 0.3, 0.2, 0.1]
    let y: [Bool] = [true, false, true, true, false, false, true, false]

    func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 1e-9 }

    @Test func aucCountsTiesHalf() {
        // 4 positives × 4 negatives = 16 pairs. Positive 0.9 beats all 4; 0.8 beats 3 and ties 1 (3.5);
        // 0.6 beats 3; 0.2 beats 1 (0.1). Total 11.5 / 16.
        #expect(close(BinaryMetrics.auc(scores: p, labels: y), 11.5 / 16))
        // Brute force over pairs agrees.
        var wins = 0.0
        for i in p.indices where y[i] { for j in p.indices where !y[j] { wins += p[i] > p[j] ? 1 : p[i] == p[j] ? 0.5 : 0 } }
        #expect(close(BinaryMetrics.auc(scores: p, labels: y), wins / 16))
        #expect(BinaryMetrics.auc(scores: [0.1, 0.2], labels: [true, true]).isNaN)
        #expect(close(BinaryMetrics.auc(scores: [0.5, 0.5, 0.5], labels: [true, false, false]), 0.5))
    }

    @Test func logLossAndBrier() {
        let expectedLog = -(log(0.9) + log(0.2) + log(0.8) + log(0.6) + log(0.6) + log(0.7) + log(0.2) + log(0.9)) / 8
        #expect(close(BinaryMetrics.logLoss(probabilities: p, labels: y), expectedLog))
        let expectedBrier = (0.01 + 0.64 + 0.04 + 0.16 + 0.16 + 0.09 + 0.64 + 0.01) / 8
        #expect(close(BinaryMetrics.brier(probabilities: p, labels: y), expectedBrier))
        // Clipping keeps a confident mistake finite: -log(1e-15).
        #expect(close(BinaryMetrics.logLoss(probabilities: [0], labels: [true]), -log(1e-15)))
    }

    @Test func precisionRecallF1AtAThreshold() {
        let c = BinaryMetrics.confusion(probabilities: p, labels: y, threshold: 0.5)
        #expect(c == .init(truePositives: 3, falsePositives: 1, trueNegatives: 3, falseNegatives: 1))
        #expect(close(c.precision, 0.75) && close(c.recall, 0.75) && close(c.f1, 0.75))
        let none = BinaryMetrics.confusion(probabilities: p, labels: y, threshold: 0.95)
        #expect(none.precision == 0 && none.recall == 0 && none.f1 == 0)
    }

    @Test func hitRateAndLiftAtK() {
        // Top 3: 0.9 (yes), 0.8 (no, index 1), 0.8 (yes, index 2): ties keep input order.
        #expect(BinaryMetrics.topK(scores: p, k: 3) == [0, 1, 2])
        #expect(close(BinaryMetrics.hitRateAtK(scores: p, labels: y, k: 3), 2.0 / 3))
        #expect(close(BinaryMetrics.liftAtK(scores: p, labels: y, k: 3), (2.0 / 3) / 0.5))
        #expect(close(BinaryMetrics.hitRateAtK(scores: p, labels: y, k: 100), 0.5))
        #expect(close(BinaryMetrics.baseRate(y), 0.5))
    }

    @Test func expectedCalibrationError() {
        // Bins of width 0.5: [0, 0.5) holds 0.4, 0.3, 0.2, 0.1 (mean 0.25, rate 1/4);
        // [0.5, 1] holds 0.9, 0.8, 0.8, 0.6 (mean 0.775, rate 3/4). ECE = ½·0 + ½·0.025.
        #expect(close(BinaryMetrics.expectedCalibrationError(probabilities: p, labels: y, bins: 2), 0.0125))
        #expect(close(BinaryMetrics.expectedCalibrationError(probabilities: [1.0, 0.0], labels: [true, false], bins: 10), 0))
    }
}

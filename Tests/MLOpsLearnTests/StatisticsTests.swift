import Foundation
import Testing
@testable import MLOpsLearn

@Suite struct NormalTests {
    @Test func knownValues() {
        #expect(abs(Normal.cdf(1.96) - 0.9750021048517795) < 1e-12)
        #expect(abs(Normal.quantile(0.975) - 1.959963984540054) < 1e-12)
        #expect(abs(Normal.quantile(0.95) - 1.6448536269514722) < 1e-12)
        #expect(Normal.quantile(0.5) == 0)
        for p in [1e-10, 0.001, 0.02, 0.3, 0.7, 0.98, 0.999999] {
            #expect(abs(Normal.cdf(Normal.quantile(p)) - p) < 1e-13 * max(1, 1 / p))
        }
        // Symmetry, where 1 − p is itself exact enough to mean anything.
        for p in [0.001, 0.02, 0.3] {
            #expect(abs(Normal.quantile(p) + Normal.quantile(1 - p)) < 1e-9)
        }
    }
}

@Suite struct ProportionsTests {
    @Test func wilsonMatchesTheTextbook() {
        // Wilson 95% for 8 of 10 (Newcombe 1998): 0.4902 to 0.9433; for 0 of 10: 0 to 0.2775.
        let eight = Proportions.wilson(successes: 8, trials: 10, confidence: 0.95)
        #expect(abs(eight.lowerBound - 0.490162) < 1e-6 && abs(eight.upperBound - 0.943318) < 1e-6)
        let zero = Proportions.wilson(successes: 0, trials: 10, confidence: 0.95)
        #expect(zero.lowerBound == 0 && abs(zero.upperBound - 0.277533) < 1e-6)
        #expect(Proportions.wilsonUpper(successes: 8, trials: 10, confidence: 0.975) == eight.upperBound)
    }

    @Test func nonInferiorityHasThreeVerdicts() {
        let same = Proportions.nonInferiority(candidateSuccesses: 2000, candidateTrials: 10_000, stableSuccesses: 2000, stableTrials: 10_000, margin: 0.02)
        #expect(same.verdict == .pass)
        #expect(same.lower > -0.02)
        let worse = Proportions.nonInferiority(candidateSuccesses: 1200, candidateTrials: 10_000, stableSuccesses: 2000, stableTrials: 10_000, margin: 0.02)
        #expect(worse.verdict == .fail)
        #expect(worse.reason.contains("worse by more than 0.0200"))
        let few = Proportions.nonInferiority(candidateSuccesses: 18, candidateTrials: 100, stableSuccesses: 20, stableTrials: 100, margin: 0.02)
        #expect(few.verdict == .insufficient)
        let tooFew = Proportions.nonInferiority(candidateSuccesses: 50, candidateTrials: 100, stableSuccesses: 20, stableTrials: 100, margin: 0.02, minSamples: 400)
        #expect(tooFew.verdict == .insufficient)
        #expect(tooFew.reason == "100 outcomes in the smaller arm, 400 needed")
        // The one-sided bound by hand: 0.2 − 0.2 − 1.6449 · √(2 · 0.16 / 10000).
        #expect(abs(same.lower - (-1.6448536269514722 * (0.32 / 10_000).squareRoot())) < 1e-12)
    }
}

@Suite struct PairedAUCTests {
    func data(n: Int, seed: UInt64) -> ([Double], [Double], [Bool]) {
        var g = SeededGenerator(seed: seed)
        var a: [Double] = [], b: [Double] = [], y: [Bool] = []
        for _ in 0..<n {
            let label = g.bernoulli(0.3)
            let signal = label ? 1.0 : 0.0
            a.append((signal + g.normal() * 0.9 * 10).rounded() / 10)  // rounded: ties happen
            b.append(signal * 0.6 + g.normal())
            y.append(label)
        }
        return (a, b, y)
    }

    @Test func aucsAgreeWithTheDefinitionAndTheVarianceWithPlacementsByHand() {
        let (a, b, y) = data(n: 300, seed: 9)
        let result = PairedAUC.compare(candidate: a, reference: b, labels: y, margin: 0.05)
        #expect(abs(result.candidateAUC - BinaryMetrics.auc(scores: a, labels: y)) < 1e-12)
        #expect(abs(result.referenceAUC - BinaryMetrics.auc(scores: b, labels: y)) < 1e-12)
        // Placements by their O(m·n) definition give the same variance.
        let pos = y.indices.filter { y[$0] }, neg = y.indices.filter { !y[$0] }
        func psi(_ x: Double, _ z: Double) -> Double { x > z ? 1 : x == z ? 0.5 : 0 }
        func byHand(_ s: [Double]) -> ([Double], [Double]) {
            (pos.map { i in neg.reduce(0) { $0 + psi(s[i], s[$1]) } / Double(neg.count) },
             neg.map { j in pos.reduce(0) { $0 + psi(s[$1], s[j]) } / Double(pos.count) })
        }
        let (a10, a01) = byHand(a), (b10, b01) = byHand(b)
        let d10 = zip(a10, b10).map { $0 - $1 }, d01 = zip(a01, b01).map { $0 - $1 }
        func variance(_ v: [Double]) -> Double {
            let mean = v.reduce(0, +) / Double(v.count)
            return v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count - 1)
        }
        let expected = (variance(d10) / Double(pos.count) + variance(d01) / Double(neg.count)).squareRoot()
        #expect(abs(result.standardError - expected) < 1e-12)
    }

    @Test func verdicts() {
        let (a, b, y) = data(n: 4000, seed: 2)
        #expect(PairedAUC.compare(candidate: b, reference: b, labels: y, margin: 0.01).verdict == .pass)
        #expect(PairedAUC.compare(candidate: b.map { -$0 }, reference: b, labels: y, margin: 0.01).verdict == .fail)
        _ = a
        let few = PairedAUC.compare(candidate: [0.1, 0.9, 0.4], reference: [0.2, 0.8, 0.5], labels: [false, true, false], margin: 0.01)
        #expect(few.verdict == .insufficient)
    }
}

/// Two-sample KS against scipy 1.17.1's `ks_2samp` (default `method='auto'`: exact below 10,000
/// rows a sample). The samples are rational sequences, so both sides sort the same values; the
/// expected figures were printed by scipy on this machine.
@Suite struct KolmogorovSmirnovTests {
    static func samples(_ n: Int, _ m: Int, shift: Double) -> ([Double], [Double]) {
        ((0..<n).map { Double($0 * 37 % 101) / 101 }, (0..<m).map { Double($0 * 53 % 97) / 97 + shift })
    }

    @Test(arguments: [
        (20, 20, 0.0, 0.1, 0.9999923931635496),
        (20, 20, 0.15, 0.2, 0.8319696107963263),
        (20, 20, 0.5, 0.55, 0.00396729438660086),
        (12, 12, 0.3, 0.4166666666666667, 0.2557751845677543),
        (7, 11, 0.2, 0.44155844155844154, 0.29455756661639015),
        (20, 30, 0.1, 0.15, 0.9276573396888691),
        (30, 25, 0.35, 0.37333333333333335, 0.033468951826499706),
        (40, 60, 0.25, 0.25833333333333336, 0.07161444615420261),
        (100, 80, 0.05, 0.06, 0.9942236077823827),
        (200, 150, 0.15, 0.16, 0.02246333963936341),
        (300, 200, 0.03, 0.041666666666666664, 0.9815943474153246),
        (1000, 900, 0.02, 0.03, 0.773484347739627),
    ])
    func matchesScipy(_ n: Int, _ m: Int, _ shift: Double, _ statistic: Double, _ exact: Double) {
        let (x, y) = Self.samples(n, m, shift: shift)
        let result = TwoSampleTests.kolmogorovSmirnov(x, y)
        #expect(abs(result.statistic - statistic) < 1e-12)
        #expect(abs(result.pValue - exact) <= 1e-9 * max(1, exact), "\(n)+\(m): \(result.pValue) vs scipy \(exact)")
        // At 20 + 20 the limiting distribution alone was far off (0.75 for 0.83, 0.0023 for 0.0040).
    }

    @Test func identicalSamplesAndTheBound() {
        let (x, _) = Self.samples(50, 0, shift: 0)
        #expect(TwoSampleTests.kolmogorovSmirnov(x, x).pValue == 1)
        // Past scipy's bound the limiting distribution answers.
        let big = (0..<10_001).map { Double($0 % 997) / 997 }
        let result = TwoSampleTests.kolmogorovSmirnov(big, big.map { $0 + 0.01 })
        #expect(TwoSampleTests.exactKSPValue(10_001, 10_001, statistic: result.statistic, limiting: 0.5) == nil)
        #expect(result.pValue > 0 && result.pValue < 1)
    }
}

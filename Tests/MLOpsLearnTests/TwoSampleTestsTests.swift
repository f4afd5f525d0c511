import Testing
@testable import MLOpsLearn

/// Expected values from scipy (`ks_2samp`, `kstwobign.sf`, `chi2.sf`, `chi2_contingency`).
@Suite("Two-sample tests for drift, against scipy")
struct TwoSampleTestsTests {
    @Test func kolmogorovSmirnovMatchesScipy() {
        let a = (0..<50).map { 0.1 * Double($0) }, b = (0..<60).map { 0.1 * Double($0) + 1.0 }
        let result = TwoSampleTests.kolmogorovSmirnov(a, b)
        #expect(abs(result.statistic - 0.333333333333) < 1e-9)
        // ks_2samp's exact value; the limiting distribution (kstwobign) says 0.00467.
        #expect(abs(result.pValue - 0.003460010932322214) < 1e-9)
        let lambda = (50.0 * 60 / 110).squareRoot() * result.statistic
        #expect(abs(TwoSampleTests.kolmogorovQ(lambda) - 0.004665972996250521) < 1e-9)
        #expect(TwoSampleTests.kolmogorovSmirnov(a, a).pValue == 1)
    }

    @Test func chiSquareMatchesScipy() {
        #expect(abs(TwoSampleTests.chiSquareSurvival(7.5, degrees: 3) - 0.0575584519726364) < 1e-10)
        #expect(abs(TwoSampleTests.chiSquareSurvival(30, degrees: 4) - 4.894437128029217e-06) < 1e-12)
        #expect(abs(TwoSampleTests.chiSquareSurvival(0.5, degrees: 1) - 0.47950012218695337) < 1e-10)
        // The 2 × 3 table [[30, 20, 50], [25, 35, 40]].
        let a = Array(repeating: "x", count: 30) + Array(repeating: "y", count: 20) + Array(repeating: "z", count: 50)
        let b = Array(repeating: "x", count: 25) + Array(repeating: "y", count: 35) + Array(repeating: "z", count: 40)
        let result = TwoSampleTests.chiSquare(a, b)
        #expect(abs(result.statistic - 5.656565656565656) < 1e-9)
        #expect(abs(result.pValue - 0.05911427592751336) < 1e-9)
    }

    @Test func psiIsZeroForTheSameDataAndGrowsWithAShift() {
        let reference = (0..<1000).map { Double($0 % 100) }
        #expect(TwoSampleTests.psi(reference: reference, current: reference) < 1e-12)
        let shifted = reference.map { $0 + 30 }
        #expect(TwoSampleTests.psi(reference: reference, current: shifted) > 0.25)
        #expect(TwoSampleTests.psi(reference: ["a", "b", "a", "b"], current: ["a", "a", "a", "b"]) > 0.1)
    }
}

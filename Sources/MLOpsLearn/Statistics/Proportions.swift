import Foundation

/// What a statistical comparison concluded. Too little data is its own verdict, never a pass.
public enum Verdict: String, Sendable, Codable, Hashable {
    case pass
    case fail
    case insufficient
}

/// Rates of binary outcomes: confidence bounds and the candidate-against-stable comparison that
/// gates, canary analyses and hit-rate monitors decide by.
public enum Proportions {
    /// The Wilson score interval for `successes` of `trials` at two-sided `confidence`.
    public static func wilson(successes: Int, trials: Int, confidence: Double) -> ClosedRange<Double> {
        guard trials > 0 else { return 0...1 }
        let z = Normal.quantile(1 - (1 - confidence) / 2)
        return wilson(successes: successes, trials: trials, z: z)
    }

    /// The one-sided Wilson upper bound at `confidence` (the rate is below it with that confidence).
    public static func wilsonUpper(successes: Int, trials: Int, confidence: Double) -> Double {
        guard trials > 0 else { return 1 }
        return wilson(successes: successes, trials: trials, z: Normal.quantile(confidence)).upperBound
    }

    static func wilson(successes: Int, trials: Int, z: Double) -> ClosedRange<Double> {
        let n = Double(trials), p = Double(successes) / n, z2 = z * z
        let centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        let half = z / (1 + z2 / n) * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        // At 0 successes the lower bound is exactly 0, at n exactly 1; rounding would miss both.
        let lower = successes == 0 ? 0 : max(0, centre - half)
        let upper = successes == trials ? 1 : min(1, centre + half)
        return lower...upper
    }

    public struct NonInferiority: Sendable, Hashable, Codable {
        public var verdict: Verdict
        public var candidateRate: Double
        public var stableRate: Double
        /// candidate − stable.
        public var difference: Double
        /// The one-sided confidence bounds of the difference at 1 − alpha.
        public var lower: Double
        public var upper: Double
        /// The p-value of "the candidate is worse by the margin or more".
        public var pValue: Double
        public var reason: String
    }

    /// Is the candidate's rate not worse than the stable one's by more than `margin`? Pass when
    /// the lower bound of the difference is above −margin; fail when its upper bound is below
    /// −margin; insufficient otherwise, or with fewer than `minSamples` trials in either arm.
    /// Unpooled (Wald) standard error, one-sided bounds at 1 − alpha.
    public static func nonInferiority(candidateSuccesses: Int, candidateTrials: Int, stableSuccesses: Int, stableTrials: Int,
                                      margin: Double, alpha: Double = 0.05, minSamples: Int = 1) -> NonInferiority {
        let pc = candidateTrials > 0 ? Double(candidateSuccesses) / Double(candidateTrials) : .nan
        let ps = stableTrials > 0 ? Double(stableSuccesses) / Double(stableTrials) : .nan
        let difference = pc - ps
        guard candidateTrials >= max(1, minSamples), stableTrials >= max(1, minSamples) else {
            return NonInferiority(verdict: .insufficient, candidateRate: pc, stableRate: ps, difference: difference, lower: -1, upper: 1,
                                  pValue: 1, reason: "\(min(candidateTrials, stableTrials)) outcomes in the smaller arm, \(minSamples) needed")
        }
        let se = (pc * (1 - pc) / Double(candidateTrials) + ps * (1 - ps) / Double(stableTrials)).squareRoot()
        let z = Normal.quantile(1 - alpha)
        let lower = difference - z * se, upper = difference + z * se
        let pValue = se > 0 ? 1 - Normal.cdf((difference + margin) / se) : (difference > -margin ? 0 : 1)
        let shown = { (x: Double) in String(format: "%.4f", x) }
        if lower > -margin {
            return NonInferiority(verdict: .pass, candidateRate: pc, stableRate: ps, difference: difference, lower: lower, upper: upper, pValue: pValue,
                                  reason: "candidate \(shown(pc)) vs stable \(shown(ps)): the difference is above −\(shown(margin)) with \(Int((1 - alpha) * 100))% confidence (lower bound \(shown(lower)))")
        }
        if upper < -margin {
            return NonInferiority(verdict: .fail, candidateRate: pc, stableRate: ps, difference: difference, lower: lower, upper: upper, pValue: pValue,
                                  reason: "candidate \(shown(pc)) vs stable \(shown(ps)): worse by more than \(shown(margin)) with \(Int((1 - alpha) * 100))% confidence (upper bound \(shown(upper)))")
        }
        return NonInferiority(verdict: .insufficient, candidateRate: pc, stableRate: ps, difference: difference, lower: lower, upper: upper, pValue: pValue,
                              reason: "candidate \(shown(pc)) vs stable \(shown(ps)): the bounds \(shown(lower))…\(shown(upper)) straddle −\(shown(margin)); more outcomes are needed")
    }
}

import Foundation

/// A Bernoulli CUSUM (Reynolds & Stoumbos): the running log-likelihood ratio of "the rate fell to
/// p1" against "it is still p0", floored at zero, alarming at h. It accumulates evidence outcome by
/// outcome, so a small lasting drop is seen sooner than by a fixed window, and its false alarms
/// are controlled: with no drop the expected number of outcomes before an alarm is at least e^h
/// (Lorden).
public struct BernoulliCUSUM: Sendable, Hashable {
    public let p0: Double
    public let p1: Double
    public let threshold: Double
    public private(set) var statistic: Double

    public init(p0: Double, p1: Double, threshold: Double, statistic: Double = 0) {
        self.p0 = min(max(p0, 1e-6), 1 - 1e-6)
        self.p1 = min(max(p1, 1e-6), 1 - 1e-6)
        self.threshold = threshold
        self.statistic = statistic
    }

    /// The log-likelihood ratio one outcome adds.
    public func increment(_ success: Bool) -> Double {
        success ? log(p1 / p0) : log((1 - p1) / (1 - p0))
    }

    public mutating func observe(_ success: Bool) {
        statistic = max(0, statistic + increment(success))
    }

    public var alarmed: Bool { statistic >= threshold }
}

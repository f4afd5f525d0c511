/// The `with:` of a `deploy` stage: which model, how it is promoted, and the rollout's steps.
public struct DeploySpec: Sendable, Hashable {
    public enum Strategy: String, Sendable, CaseIterable {
        case replace
        case canary
        case blueGreen = "blue_green"
    }

    public enum Step: Sendable, Hashable {
        case setWeight(Int)
        case bake(minDuration: SpecDuration?, minSamples: Int?, maxDuration: SpecDuration?)
        /// The candidate's hit-rate against the stable version's: a one-sided two-proportion test
        /// that it is not worse by more than `margin`, at `alpha`, on mature outcomes only.
        case analysis(metric: String, margin: Double = 0.02, alpha: Double = 0.05)
        /// A manual gate, released by `mlops promote`.
        case pause(duration: SpecDuration?)
    }

    /// What an analysis that stays inconclusive up to `max_duration` does; never a promotion.
    public enum OnInconclusive: String, Sendable, CaseIterable {
        case pause
        case rollback
    }

    /// What a deploy does when a rollout of the same model is still in flight.
    public enum InFlight: String, Sendable, CaseIterable {
        /// Register the new candidate, tag it, and leave the rollout under way alone.
        case refuse
        /// Roll the rollout under way back, then start the new candidate's.
        case supersede
    }

    /// Blue-green's pre-promotion check: score a sample in the idle slot before switching.
    public struct PreCheck: Sendable, Hashable {
        public var sample: Int = 500
        /// The largest mean time to score one row.
        public var maxLatencyMillis: Double = 5
    }

    public var model: String
    public var strategy: Strategy
    public var steps: [Step]
    public var keepPreviousFor: SpecDuration?
    public var onInconclusive: OnInconclusive
    public var inFlight: InFlight = .refuse
    public var preCheck = PreCheck()
}

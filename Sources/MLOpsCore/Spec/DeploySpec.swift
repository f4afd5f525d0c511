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
        case analysis(metric: String)
        /// A manual gate, released by `mlops promote`.
        case pause(duration: SpecDuration?)
    }

    /// What an analysis that stays inconclusive up to `max_duration` does; never a promotion.
    public enum OnInconclusive: String, Sendable, CaseIterable {
        case pause
        case rollback
    }

    public var model: String
    public var strategy: Strategy
    public var steps: [Step]
    public var keepPreviousFor: SpecDuration?
    public var onInconclusive: OnInconclusive
}

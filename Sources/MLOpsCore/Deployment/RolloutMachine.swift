import MLOpsLearn

/// Where a rollout stands. Terminal states are `rolledBack`; `promoted` and `aborted` accept only
/// a rollback.
public enum RolloutState: Sendable, Hashable, Codable {
    case pending
    case progressing(step: Int)
    case paused(step: Int, reason: String)
    case promoted
    case aborted(reason: String)
    case rolledBack(reason: String)

    public var name: String {
        switch self {
        case .pending: return "pending"
        case .progressing: return "progressing"
        case .paused: return "paused"
        case .promoted: return "promoted"
        case .aborted: return "aborted"
        case .rolledBack: return "rolled_back"
        }
    }

    public var isInFlight: Bool {
        switch self {
        case .pending, .progressing, .paused: return true
        case .promoted, .aborted, .rolledBack: return false
        }
    }
}

/// What can happen to a rollout.
public enum RolloutEvent: Sendable, Hashable {
    case start
    /// The current step (a weight change, a bake) is complete.
    case stepCompleted
    /// The current analysis step's verdict; `bakeExpired` says `max_duration` has passed.
    case analysis(Verdict, reason: String, bakeExpired: Bool)
    /// A person releases a pause (`mlops promote`).
    case promote
    /// A bake reached `max_duration` without the samples it needs.
    case bakeExpired(reason: String)
    case abort(reason: String)
    case rollback(reason: String)
}

/// An event the state does not allow, with what would be allowed.
public struct RolloutRefusal: Error, Sendable, CustomStringConvertible, Equatable {
    public var description: String
}

/// The rules of a rollout as a pure function: state + event → state. A timer never passes an
/// analysis: an inconclusive one extends the bake, and at `max_duration` follows `on_inconclusive`
/// (pause, or roll back), never promotion.
public struct RolloutMachine: Sendable {
    public var steps: [DeploySpec.Step]
    public var onInconclusive: DeploySpec.OnInconclusive

    public init(steps: [DeploySpec.Step], onInconclusive: DeploySpec.OnInconclusive = .pause) {
        self.steps = steps
        self.onInconclusive = onInconclusive
    }

    public func next(_ state: RolloutState, _ event: RolloutEvent) throws(RolloutRefusal) -> RolloutState {
        switch (state, event) {
        case (.pending, .start):
            return steps.isEmpty ? .promoted : .progressing(step: 0)
        case let (.progressing(step), .stepCompleted):
            if case .analysis = steps[step] {
                throw RolloutRefusal(description: "step \(step + 1) is an analysis; it ends with a verdict, not by itself")
            }
            if case .pause = steps[step] { return .paused(step: step, reason: "manual gate: `mlops promote` to continue") }
            return advance(from: step)
        case let (.progressing(step), .analysis(verdict, reason, bakeExpired)):
            guard case .analysis = steps[step] else {
                throw RolloutRefusal(description: "step \(step + 1) is not an analysis")
            }
            switch verdict {
            case .pass: return advance(from: step)
            case .fail: return .aborted(reason: "analysis failed: \(reason)")
            case .insufficient:
                guard bakeExpired else { return .progressing(step: step) }
                switch onInconclusive {
                case .pause: return .paused(step: step, reason: "analysis inconclusive at max_duration: \(reason)")
                case .rollback: return .aborted(reason: "analysis inconclusive at max_duration: \(reason)")
                }
            }
        case let (.progressing(step), .bakeExpired(reason)):
            guard case .bake = steps[step] else { throw RolloutRefusal(description: "step \(step + 1) is not a bake") }
            switch onInconclusive {
            case .pause: return .paused(step: step, reason: "bake incomplete at max_duration: \(reason)")
            case .rollback: return .aborted(reason: "bake incomplete at max_duration: \(reason)")
            }
        case let (.paused(step, _), .promote):
            return advance(from: step)
        case (.pending, .abort(let reason)), (.progressing, .abort(let reason)), (.paused, .abort(let reason)):
            return .aborted(reason: reason)
        case (.aborted, .rollback(let reason)), (.promoted, .rollback(let reason)):
            return .rolledBack(reason: reason)
        case (.rolledBack, .rollback):
            return state  // Idempotent: rolling back twice changes nothing.
        default:
            throw RolloutRefusal(description: "a rollout that is \(state.name) cannot \(Self.describe(event))"
                + (state.isInFlight ? "" : "; start a new rollout instead"))
        }
    }

    func advance(from step: Int) -> RolloutState {
        step + 1 < steps.count ? .progressing(step: step + 1) : .promoted
    }

    /// The candidate's share of traffic in `state`: the last weight set up to the current step.
    public func weight(_ state: RolloutState) -> Int {
        switch state {
        case .pending, .aborted, .rolledBack: return 0
        case .promoted: return 100
        case let .progressing(step), let .paused(step, _):
            for index in stride(from: step, through: 0, by: -1) {
                if case let .setWeight(weight) = steps[index] { return weight }
            }
            return 0
        }
    }

    /// The event as the rollout's history names it.
    public static func eventName(_ event: RolloutEvent) -> String {
        switch event {
        case .start: return "start"
        case .stepCompleted: return "step_completed"
        case let .analysis(verdict, _, _): return "analysis_\(verdict)"
        case .bakeExpired: return "bake_expired"
        case .promote: return "promote"
        case .abort: return "abort"
        case .rollback: return "rollback"
        }
    }

    static func describe(_ event: RolloutEvent) -> String {
        switch event {
        case .start: return "start"
        case .stepCompleted: return "complete a step"
        case .analysis: return "take an analysis verdict"
        case .bakeExpired: return "end a bake"
        case .promote: return "be promoted"
        case .abort: return "be aborted"
        case .rollback: return "be rolled back"
        }
    }
}

import Foundation

/// A persisted rollout: one candidate version of a model on its way to `champion`, with the
/// stable version it is compared with and where it stands.
public struct Rollout: Sendable, Hashable, Codable {
    public var id: String
    public var model: String
    public var candidateVersion: Int
    /// The champion when the rollout started; nil for a model's first version.
    public var stableVersion: Int?
    public var strategy: String
    public var plan: RolloutPlan
    public var state: RolloutState
    public var weight: Int
    public var jobRunID: String?
    public var startedTime: Int64
    public var stepStartedTime: Int64
    public var bakeStartedTime: Int64?
    public var promotedTime: Int64?
    /// Blue-green: the previous version is kept ready (alias `previous`) until then.
    public var previousUntil: Int64?
    public var finishedTime: Int64?
    /// The last analysis, as shown by `mlops rollouts show`.
    public var analysis: RolloutAnalysis.Result?
    public var updatedTime: Int64

    public init(row: RolloutRow) throws {
        id = row.id
        model = row.model
        candidateVersion = row.candidateVersion
        stableVersion = row.stableVersion
        strategy = row.strategy
        plan = try JSONDecoder().decode(RolloutPlan.self, from: Data(row.planJSON.utf8))
        let step = row.step, reason = row.reason ?? ""
        state = switch row.state {
        case "pending": .pending
        case "progressing": .progressing(step: step)
        case "paused": .paused(step: step, reason: reason)
        case "promoted": .promoted
        case "aborted": .aborted(reason: reason)
        default: .rolledBack(reason: reason)
        }
        weight = row.weight
        jobRunID = row.jobRunID
        startedTime = row.startedTime
        stepStartedTime = row.stepStartedTime
        bakeStartedTime = row.bakeStartedTime
        promotedTime = row.promotedTime
        previousUntil = row.previousUntil
        finishedTime = row.finishedTime
        analysis = row.analysisJSON.flatMap { try? JSONDecoder().decode(RolloutAnalysis.Result.self, from: Data($0.utf8)) }
        updatedTime = row.updatedTime
    }

    /// Its state as a transition writes it.
    var stateUpdate: RolloutUpdate {
        RolloutUpdate(id: id, state: state.name, step: step ?? 0, reason: reason, weight: weight, stepStartedTime: stepStartedTime,
                      bakeStartedTime: bakeStartedTime, promotedTime: promotedTime, previousUntil: previousUntil,
                      finishedTime: finishedTime, updatedTime: updatedTime)
    }

    public var step: Int? {
        switch state {
        case let .progressing(step), let .paused(step, _): return step
        default: return nil
        }
    }

    public var reason: String? {
        switch state {
        case let .paused(_, reason), let .aborted(reason), let .rolledBack(reason): return reason
        default: return nil
        }
    }

    /// The version an entity's request goes to: the candidate when its sticky bucket falls under
    /// the weight, else the stable version.
    public func version(for entity: String) -> Int {
        guard let stable = stableVersion else { return candidateVersion }
        return StickyRouting.takesCandidate(entity, salt: StickyRouting.salt(model: model, candidate: candidateVersion), weight: weight) ? candidateVersion : stable
    }
}

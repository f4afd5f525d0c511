import Foundation
import GRDB

/// A persisted rollout: one candidate version of a model on its way to `champion`, with the
/// stable version it is compared with and where it stands.
public struct Rollout: Sendable, Hashable, Codable, FetchableRecord {
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

    public init(row: Row) throws {
        id = row["id"]
        model = row["model_name"]
        candidateVersion = row["candidate_version"]
        stableVersion = row["stable_version"]
        strategy = row["strategy"]
        plan = try JSONDecoder().decode(RolloutPlan.self, from: Data((row["plan"] as String).utf8))
        let step: Int = row["step"]
        let reason: String = row["reason"] ?? ""
        state = switch row["state"] as String {
        case "pending": .pending
        case "progressing": .progressing(step: step)
        case "paused": .paused(step: step, reason: reason)
        case "promoted": .promoted
        case "aborted": .aborted(reason: reason)
        default: .rolledBack(reason: reason)
        }
        weight = row["weight"]
        jobRunID = row["job_run_id"]
        startedTime = row["started_time"]
        stepStartedTime = row["step_started_time"]
        bakeStartedTime = row["bake_started_time"]
        promotedTime = row["promoted_time"]
        previousUntil = row["previous_until"]
        finishedTime = row["finished_time"]
        analysis = (row["analysis"] as String?).flatMap { try? JSONDecoder().decode(RolloutAnalysis.Result.self, from: Data($0.utf8)) }
        updatedTime = row["updated_time"]
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

/// One transition of a rollout, as `mlops rollouts show` lists its history.
public struct RolloutEventRecord: Sendable, Hashable, Codable, FetchableRecord {
    public var time: Int64
    public var actor: String
    public var event: String
    public var from_state: String?
    public var to_state: String
    public var step: Int?
    public var weight: Int
    public var detail: String?
}

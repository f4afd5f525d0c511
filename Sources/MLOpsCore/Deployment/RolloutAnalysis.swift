import Foundation
import MLOpsLearn

/// The analysis of a rollout on binary outcomes: the candidate's hit-rate against the stable
/// version's, counting only predictions whose label is mature (observed by `now`). A canary is
/// compared with the stable arm over the same period; blue-green, which sends the stable version
/// nothing after the switch, with the stable version's outcomes over as long a period before it.
public enum RolloutAnalysis {
    public struct Arm: Sendable, Hashable, Codable {
        public var version: Int
        public var trials: Int
        public var successes: Int
        public var rate: Double { trials > 0 ? Double(successes) / Double(trials) : .nan }
    }

    public struct Result: Sendable, Hashable, Codable {
        public var time: Int64
        public var metric: String
        public var verdict: String
        public var candidate: Arm
        public var stable: Arm?
        public var margin: Double
        public var alpha: Double
        public var lower: Double?
        public var upper: Double?
        public var reason: String

        public var parsedVerdict: Verdict {
            switch verdict {
            case "pass": return .pass
            case "fail": return .fail
            default: return .insufficient
            }
        }
    }

    /// Mature outcomes of `version`'s contacted predictions made between `since` and `until`, in
    /// `rolloutID` when given.
    static func arm(_ tx: StoreTransaction, model: String, version: Int, rolloutID: String?, since: Int64, until: Int64, now: Int64) throws -> Arm {
        let counts = try MatureOutcomes.count(tx, model: model, version: version, now: now, createdFrom: since, before: until, rolloutID: rolloutID)
        return Arm(version: version, trials: counts.trials, successes: counts.successes)
    }

    /// The candidate's mature outcomes since `since`: what a bake's `min_samples` counts.
    static func candidateSamples(_ tx: StoreTransaction, _ rollout: Rollout, since: Int64, now: Int64) throws -> Int {
        try arm(tx, model: rollout.model, version: rollout.candidateVersion, rolloutID: rollout.id, since: since, until: .max, now: now).trials
    }

    static func run(_ tx: StoreTransaction, _ rollout: Rollout, metric: String, margin: Double, alpha: Double, minSamples: Int, now: Int64) throws -> Result {
        let candidate = try arm(tx, model: rollout.model, version: rollout.candidateVersion, rolloutID: rollout.id,
                                since: rollout.startedTime, until: .max, now: now)
        guard let stableVersion = rollout.stableVersion else {
            return Result(time: now, metric: metric, verdict: "pass", candidate: candidate, stable: nil, margin: margin, alpha: alpha,
                          reason: "no stable version to compare with")
        }
        let stable = rollout.strategy == DeploySpec.Strategy.blueGreen.rawValue
            ? try arm(tx, model: rollout.model, version: stableVersion, rolloutID: nil,
                      since: rollout.startedTime - max(0, now - rollout.startedTime), until: rollout.startedTime, now: now)
            : try arm(tx, model: rollout.model, version: stableVersion, rolloutID: rollout.id, since: rollout.startedTime, until: .max, now: now)
        let test = Proportions.nonInferiority(candidateSuccesses: candidate.successes, candidateTrials: candidate.trials,
                                              stableSuccesses: stable.successes, stableTrials: stable.trials,
                                              margin: margin, alpha: alpha, minSamples: max(1, minSamples))
        let verdict = switch test.verdict {
        case .pass: "pass"
        case .fail: "fail"
        case .insufficient: "insufficient"
        }
        return Result(time: now, metric: metric, verdict: verdict, candidate: candidate, stable: stable, margin: margin, alpha: alpha,
                      lower: test.lower.isFinite ? test.lower : nil, upper: test.upper.isFinite ? test.upper : nil,
                      reason: "hit rate v\(rollout.candidateVersion) \(candidate.successes)/\(candidate.trials) vs v\(stableVersion) \(stable.successes)/\(stable.trials): " + test.reason)
    }
}

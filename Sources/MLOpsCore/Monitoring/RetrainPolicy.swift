import Foundation

/// Whether a monitor's breach may start its `on_drop` job now. A retrain is never stacked: not
/// while a run of that job is going, not while a rollout of the model is in flight (the candidate
/// under way is the answer to the drop), not within the cooldown after the last one, and not more
/// than `max_retrains.count` in `max_retrains.period`. Each refusal says why.
public enum RetrainPolicy {
    public struct Decision: Sendable, Hashable {
        public var start: Bool
        public var reason: String
    }

    public static func decide(_ monitor: MonitorSpec, _ evaluation: HitRateMonitor.Evaluation, store: Store, now: Int64) throws -> Decision {
        guard let job = monitor.onDropRun else { return Decision(start: false, reason: "\(monitor.name) has no on_drop job") }
        guard evaluation.shouldTrigger else {
            return Decision(start: false, reason: evaluation.verdict == .dropped
                ? "\(evaluation.breaches) of \(monitor.breachesToTrigger) breaches in a row, or in cooldown" : "no significant drop")
        }
        return try store.read { tx in
            if try Tracker.isRunning(tx, job: job) {
                return Decision(start: false, reason: "a run of \(job) is already going")
            }
            if let rollout = try RolloutRecords.inFlight(tx, monitor.model) {
                return Decision(start: false, reason: "a rollout of \(monitor.model) v\(rollout.candidateVersion) is in flight")
            }
            if let last = try Tracker.lastStart(tx, job: job, trigger: .monitor), now - last < monitor.cooldown.milliseconds {
                return Decision(start: false, reason: "the last retrain of \(job) started less than \(monitor.cooldown) ago")
            }
            if let cap = monitor.maxRetrains {
                let recent = try Tracker.starts(tx, job: job, trigger: .monitor, since: now - cap.period.milliseconds)
                if recent >= cap.count {
                    return Decision(start: false, reason: "\(recent) retrains of \(job) in the last \(cap.period), max_retrains is \(cap.count)")
                }
            }
            return Decision(start: true, reason: "\(monitor.name): \(evaluation.reason)")
        }
    }
}

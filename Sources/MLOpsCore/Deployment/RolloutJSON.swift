import Foundation

extension Rollout {
    /// The rollout as `--json` and the model server's `GET /v1/models/{name}` show it.
    public var jsonObject: [String: Any] {
        var object: [String: Any] = [
            "id": id, "model": model, "candidate_version": candidateVersion, "strategy": strategy, "state": state.name,
            "weight": weight, "started_time": startedTime, "updated_time": updatedTime,
            "steps": plan.steps.map(\.summary), "on_inconclusive": plan.onInconclusive,
        ]
        object["stable_version"] = stableVersion
        object["step"] = step.map { $0 + 1 }
        object["reason"] = reason
        object["promoted_time"] = promotedTime
        object["previous_kept_until"] = previousUntil
        object["finished_time"] = finishedTime
        object["job_run_id"] = jobRunID
        if let analysis {
            var a: [String: Any] = ["time": analysis.time, "metric": analysis.metric, "verdict": analysis.verdict, "margin": analysis.margin,
                                    "alpha": analysis.alpha, "reason": analysis.reason,
                                    "candidate": ["version": analysis.candidate.version, "trials": analysis.candidate.trials, "successes": analysis.candidate.successes]]
            if let stable = analysis.stable { a["stable"] = ["version": stable.version, "trials": stable.trials, "successes": stable.successes] }
            a["lower"] = analysis.lower
            a["upper"] = analysis.upper
            object["analysis"] = a
        }
        return object
    }
}

extension RolloutEventRecord {
    public var jsonObject: [String: Any] {
        var object: [String: Any] = ["time": time, "actor": actor, "event": event, "to_state": to_state, "weight": weight]
        object["from_state"] = from_state
        object["step"] = step.map { $0 + 1 }
        object["detail"] = detail
        return object
    }
}

import Foundation
import MLOpsLearn

/// Moves rollouts along: completes weight steps, ends bakes when their time and samples are in,
/// runs analyses on mature outcomes, releases timed pauses, rolls back what was aborted, and lets
/// go of blue-green's previous version when its time is up. Time is passed in (`now`), so a
/// simulated clock drives it as well as the wall clock.
public struct RolloutController: Sendable {
    public let rollouts: RolloutStore
    /// Told of every transition (notifications); must not throw or block.
    public var onTransition: @Sendable (RolloutStore.Transition) -> Void

    public init(store: Store, onTransition: @escaping @Sendable (RolloutStore.Transition) -> Void = { _ in }) {
        rollouts = RolloutStore(store: store)
        self.onTransition = onTransition
    }

    /// Advances `model`'s rollout as far as `now` allows; returns the transitions made.
    @discardableResult
    public func advance(_ model: String, now: Int64) throws -> [RolloutStore.Transition] {
        var made: [RolloutStore.Transition] = []
        func apply(_ event: RolloutEvent, _ id: String, detail: String? = nil) throws {
            let transition = try rollouts.apply(event, to: id, now: now, detail: detail)
            made.append(transition)
            onTransition(transition)
        }
        if let latest = try rollouts.latest(model), latest.state == .promoted, latest.previousUntil.map({ $0 <= now }) == true {
            _ = try rollouts.releasePrevious(latest.id, now: now)
        }
        // Each pass makes at most one transition; a rollout has finitely many steps.
        for _ in 0..<64 {
            guard let rollout = try rollouts.inFlight(model) ?? rollouts.latest(model).flatMap({ if case .aborted = $0.state { $0 } else { nil } }) else { break }
            switch rollout.state {
            case .pending:
                try apply(.start, rollout.id)
            case let .aborted(reason):
                try apply(.rollback(reason: reason), rollout.id)
            case let .paused(step, _):
                guard case let .pause(duration?) = rollout.plan.steps[step], now - rollout.stepStartedTime >= duration.milliseconds else { return made }
                try apply(.promote, rollout.id, detail: "pause of \(duration) over")
            case let .progressing(step):
                guard let event = try stepEvent(rollout, step: step, now: now) else { return made }
                try apply(event, rollout.id)
                if case .analysis(.insufficient, _, false) = event { return made }
            default:
                return made
            }
        }
        return made
    }

    /// What the current step says now, or nil while it is still waiting.
    func stepEvent(_ rollout: Rollout, step: Int, now: Int64) throws -> RolloutEvent? {
        switch rollout.plan.steps[step] {
        case .setWeight, .pause:
            return .stepCompleted
        case let .bake(minDuration, minSamples, maxDuration):
            let elapsed = now - rollout.stepStartedTime
            let samples = try rollouts.store.read { try RolloutAnalysis.candidateSamples($0, rollout, since: rollout.startedTime, now: now) }
            let timeIn = minDuration.map { elapsed >= $0.milliseconds } ?? true
            let samplesIn = minSamples.map { samples >= $0 } ?? true
            if timeIn && samplesIn { return .stepCompleted }
            if let maxDuration, elapsed >= maxDuration.milliseconds {
                return .bakeExpired(reason: "\(samples) of \(minSamples ?? 0) mature outcomes after \(maxDuration)")
            }
            return nil
        case let .analysis(metric, margin, alpha):
            var minSamples = 1
            var bakeExpired = false
            if case let .bake(_, samples, maxDuration)? = rollout.plan.bake(before: step) {
                minSamples = samples ?? 1
                let bakeStart = rollout.bakeStartedTime ?? rollout.startedTime
                bakeExpired = maxDuration.map { now - bakeStart >= $0.milliseconds } ?? false
            }
            let result = try rollouts.store.read {
                try RolloutAnalysis.run($0, rollout, metric: metric, margin: margin, alpha: alpha, minSamples: minSamples, now: now)
            }
            try rollouts.saveAnalysis(rollout.id, result)
            // An inconclusive result that changes nothing is kept on the row, not as an event.
            if result.parsedVerdict == .insufficient, !bakeExpired { return nil }
            return .analysis(result.parsedVerdict, reason: result.reason, bakeExpired: bakeExpired)
        }
    }

    // MARK: What people do

    /// Releases a pause (`mlops promote`); a rollout paused by an inconclusive analysis is
    /// promoted past it only this way, by a person.
    public func promote(_ model: String, now: Int64) throws -> [RolloutStore.Transition] {
        guard let rollout = try rollouts.inFlight(model) else {
            throw RolloutStore.RolloutError("model \(model) has no rollout in flight to promote" + (try latestSummary(model)))
        }
        let transition = try rollouts.apply(.promote, to: rollout.id, now: now, detail: "promoted by \(AuditLog.actor)")
        onTransition(transition)
        return [transition] + (try advance(model, now: now))
    }

    /// Stops the rollout in flight and puts the stable version back.
    @discardableResult
    public func abort(_ model: String, reason: String, now: Int64) throws -> [RolloutStore.Transition] {
        guard let rollout = try rollouts.inFlight(model) else {
            throw RolloutStore.RolloutError("model \(model) has no rollout in flight to abort" + (try latestSummary(model)))
        }
        var made = [try rollouts.apply(.abort(reason: reason), to: rollout.id, now: now)]
        made.append(try rollouts.apply(.rollback(reason: reason), to: rollout.id, now: now))
        made.forEach(onTransition)
        return made
    }

    /// Rolls back the rollout in flight, or the last promoted one (to its stable version, or to
    /// `version`). Rolling back what is already rolled back changes nothing and says so.
    public func rollback(_ model: String, to version: Int? = nil, reason: String, now: Int64) throws -> [RolloutStore.Transition] {
        if try rollouts.inFlight(model) != nil, version == nil { return try abort(model, reason: reason, now: now) }
        guard let latest = try rollouts.latest(model) else {
            throw RolloutStore.RolloutError("model \(model) has no rollout to roll back; `mlops models alias \(model) champion VERSION` moves the alias by hand")
        }
        if let inFlight = try rollouts.inFlight(model) {
            _ = try rollouts.apply(.abort(reason: reason), to: inFlight.id, now: now)
        }
        if latest.stableVersion == nil, version == nil, latest.state == .promoted {
            throw RolloutStore.RolloutError("\(model) v\(latest.candidateVersion) was its first version; there is nothing to roll back to (name one with --to)")
        }
        let transition = try rollouts.apply(.rollback(reason: reason), to: latest.id, now: now, rollbackTo: version)
        onTransition(transition)
        return [transition]
    }

    func latestSummary(_ model: String) throws -> String {
        guard let latest = try rollouts.latest(model) else { return " (it has never had one)" }
        return " (its last rollout, of v\(latest.candidateVersion), is \(latest.state.name))"
    }
}

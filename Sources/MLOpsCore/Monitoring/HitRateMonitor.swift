import Foundation
import MLOpsLearn

/// A hit-rate monitor: the champion's hit rate over the outcomes that became known in the last
/// `window` (only mature labels count), against a baseline. A drop is declared only when it is
/// significant: the one-sided Wilson upper bound of the current rate is below baseline −
/// `max_drop`, with at least `min_samples` outcomes, for `breaches_to_trigger` evaluations in a
/// row that each saw new outcomes (evaluating the same outcomes twice is not new evidence). Below
/// `min_samples` the verdict is INSUFFICIENT, never "fine" nor "dropped". `method: cusum` decides
/// by a Bernoulli CUSUM over every outcome instead. `baseline: deployment` anchors on the outcomes
/// of the first `window` of predictions after the version became champion, re-anchored on each
/// promotion. The drift of the newest batch the champion scored is reported alongside, and can
/// trigger on its own.
public struct HitRateMonitor: Sendable {
    public let store: Store
    public let spec: MonitorSpec

    public init(store: Store, spec: MonitorSpec) {
        self.store = store
        self.spec = spec
    }

    typealias Cursor = MatureOutcomes.Cursor
    typealias State = MonitorRecords.State

    /// Evaluates now, updates the monitor's state (one transaction) and returns the evaluation.
    @discardableResult
    public func evaluate(now: Int64) throws -> Evaluation {
        try store.write { tx in
            let state = try MonitorRecords.state(tx, spec.name)
            let champion = try RegistryRecords.version(tx, spec.model, alias: .champion)
            // What the state says carries over only while the champion is the same version.
            let kept = state?.modelVersion == champion ? state : nil
            var evaluation = Evaluation(monitor: spec.name, model: spec.model, version: champion, time: now)
            evaluation.method = spec.method.rawValue
            guard let champion else {
                evaluation.reason = "model \(spec.model) has no champion"
                try save(tx, evaluation, kept: kept, anchor: nil, cursor: nil, cusum: 0, now: now)
                return evaluation
            }
            let counts = try observe(tx, champion: champion, now: now, into: &evaluation)
            let previous = kept?.lastOutcomeTime.map { Cursor(time: $0, id: kept?.cusumOutcomeID ?? 0) }
            let newest = try MatureOutcomes.newest(tx, model: spec.model, version: champion, now: now)
            let fresh = newest.map { n in previous.map { n > $0 } ?? true } ?? false
            evaluation.newOutcomes = fresh
            let (anchor, waiting) = try baseline(tx, champion: champion, state: kept, now: now, into: &evaluation)
            var cusum = kept?.cusum ?? 0
            let cooling = kept?.lastTriggerTime.map { now - $0 < spec.cooldown.milliseconds } ?? false
            if let baseline = evaluation.baseline {
                let dropped = try judge(tx, champion: champion, baseline: baseline, counts: counts, after: previous, cusum: &cusum,
                                        now: now, into: &evaluation)
                if dropped {
                    evaluation.verdict = .dropped
                    evaluation.breaches = (kept?.breaches ?? 0) + (fresh ? 1 : 0)
                    if !fresh { evaluation.reason += "; no new outcomes since the last evaluation, so the breach is not counted again" }
                    evaluation.shouldTrigger = fresh && evaluation.breaches >= spec.breachesToTrigger && !cooling
                    if cooling { evaluation.reason += "; in cooldown since the last trigger" }
                } else if evaluation.verdict == .insufficient {
                    evaluation.breaches = kept?.breaches ?? 0
                    evaluation.reason = "\(counts.trials) mature outcomes in the last \(spec.window), \(spec.minSamples) needed"
                }
            } else {
                evaluation.reason = waiting
            }
            weighDrift(&evaluation, cooling: cooling, lastTrigger: kept?.lastTriggerTime)
            if evaluation.shouldTrigger { cusum = 0 }
            try save(tx, evaluation, kept: kept, anchor: anchor, cursor: newest ?? previous, cusum: cusum, now: now)
            if evaluation.verdict == .dropped && fresh {
                try Outbox.enqueue(tx, .monitorBreach, model: spec.model, summary: "\(spec.name): \(evaluation.reason)",
                                   details: ["monitor": spec.name, "breaches": evaluation.breaches, "should_trigger": evaluation.shouldTrigger], now: now)
            }
            return evaluation
        }
    }

    /// The champion's mature outcomes in the window, with the rate's interval, and the drift of the
    /// newest batch it scored.
    func observe(_ tx: StoreTransaction, champion: Int, now: Int64, into evaluation: inout Evaluation) throws -> MatureOutcomes.Counts {
        let counts = try MatureOutcomes.count(tx, model: spec.model, version: champion, now: now, observedAfter: now - spec.window.milliseconds)
        evaluation.trials = counts.trials
        evaluation.successes = counts.successes
        if counts.trials > 0 {
            evaluation.rate = Double(counts.successes) / Double(counts.trials)
            let interval = Proportions.wilson(successes: counts.successes, trials: counts.trials, confidence: spec.confidence)
            evaluation.lower = interval.lowerBound
            evaluation.upper = interval.upperBound
            evaluation.bound = Proportions.wilsonUpper(successes: counts.successes, trials: counts.trials, confidence: spec.confidence)
        }
        if let entry = try FeatureDriftLog.latest(tx, model: spec.model, version: champion, now: now) {
            evaluation.drift = DriftSnapshot(entry, settings: spec.drift)
        }
        return counts
    }

    /// Whether the rate has dropped below the baseline, by the spec's method; sets the verdict to
    /// fine when it has enough outcomes to say so, and moves the CUSUM on over the new labels.
    func judge(_ tx: StoreTransaction, champion: Int, baseline: Double, counts: MatureOutcomes.Counts, after previous: Cursor?,
               cusum: inout Double, now: Int64, into evaluation: inout Evaluation) throws -> Bool {
        let shown = { (x: Double) in String(format: "%.4f", x) }
        switch spec.method {
        case .wilson:
            guard counts.trials >= spec.minSamples, let upper = evaluation.bound, let rate = evaluation.rate else { return false }
            if upper < baseline - spec.maxDrop {
                evaluation.reason = "hit rate \(shown(rate)) (upper bound \(shown(upper)) at \(Int(spec.confidence * 100))%) is below baseline \(shown(baseline)) − \(shown(spec.maxDrop))"
                return true
            }
            evaluation.verdict = .fine
            evaluation.reason = "hit rate \(shown(rate)) (upper bound \(shown(upper))) is not significantly below baseline \(shown(baseline)) − \(shown(spec.maxDrop))"
            return false
        case .cusum:
            var detector = BernoulliCUSUM(p0: baseline, p1: baseline - spec.maxDrop, threshold: spec.cusumThreshold, statistic: cusum)
            let after = previous ?? Cursor(time: Int64.min, id: Int64.min)
            for label in try MatureOutcomes.labels(tx, model: spec.model, version: champion, now: now, after: after) { detector.observe(label) }
            cusum = detector.statistic
            evaluation.cusum = cusum
            evaluation.cusumThreshold = spec.cusumThreshold
            let figures = "CUSUM \(shown(cusum)) of \(shown(spec.cusumThreshold)) for a drop from \(shown(baseline)) to \(shown(baseline - spec.maxDrop))"
            if detector.alarmed {
                evaluation.reason = "\(figures): alarm"
                return true
            }
            if counts.trials >= spec.minSamples {
                evaluation.verdict = .fine
                evaluation.reason = "\(figures): no alarm"
            }
            return false
        }
    }

    /// Drifted features are reported, and trigger on their own when the spec says so.
    func weighDrift(_ evaluation: inout Evaluation, cooling: Bool, lastTrigger: Int64?) {
        guard let drift = evaluation.drift, drift.drifted else { return }
        evaluation.reason += "; features drifted: \(drift.driftedNames.joined(separator: ", "))"
        if spec.drift.trigger, !cooling, !evaluation.shouldTrigger, lastTrigger.map({ drift.time > $0 }) ?? true {
            evaluation.shouldTrigger = true
            evaluation.reason += " (drift triggers on its own)"
        }
    }

    /// The baseline, anchored now if this is the evaluation that can: a fixed number, the one kept
    /// in the state, or the hit rate of the first `window` of predictions after the version became
    /// champion, once their outcomes are known. Returns the new anchor, or why there is none yet.
    func baseline(_ tx: StoreTransaction, champion: Int, state: State?, now: Int64,
                  into evaluation: inout Evaluation) throws -> (anchor: (value: Double, time: Int64)?, waiting: String) {
        switch spec.baseline {
        case let .value(value):
            evaluation.baseline = value
            evaluation.baselineSource = "fixed"
            return (nil, "")
        case .deployment:
            if let value = state?.baseline {
                evaluation.baseline = value
                evaluation.baselineSource = state?.baselineSource ?? "deployment"
                return (nil, "")
            }
            let promoted = try AuditLog.lastAliasMove(tx, model: spec.model, alias: .champion, to: champion) ?? 0
            let end = promoted + spec.window.milliseconds
            if now < end {
                return (nil, "no baseline yet: it is v\(champion)'s first \(spec.window) as champion, until \(Self.date(end))")
            }
            let first = try MatureOutcomes.count(tx, model: spec.model, version: champion, now: now, createdFrom: promoted, before: end)
            if first.trials < spec.minSamples {
                return (nil, "no baseline yet: v\(champion)'s first \(spec.window) as champion has \(first.trials) mature outcomes, \(spec.minSamples) needed")
            }
            let value = Double(first.successes) / Double(first.trials)
            evaluation.baseline = value
            evaluation.baselineSource = "first \(spec.window) after v\(champion) became champion"
            return ((value, now), "")
        }
    }

    static func date(_ millis: Int64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }

    func save(_ tx: StoreTransaction, _ evaluation: Evaluation, kept: State?, anchor: (value: Double, time: Int64)?, cursor: Cursor?,
              cusum: Double, now: Int64) throws {
        let text = String(decoding: try JSONEncoder().encode(evaluation), as: UTF8.self)
        try MonitorRecords.save(tx, .init(
            monitor: evaluation.monitor, model: evaluation.model, version: evaluation.version,
            baseline: anchor?.value ?? kept?.baseline,
            baselineSource: anchor != nil ? evaluation.baselineSource : kept?.baselineSource,
            anchoredTime: anchor?.time ?? kept?.anchoredTime,
            breaches: evaluation.verdict == .fine ? 0 : evaluation.breaches,
            evaluationJSON: text, lastTriggerTime: kept?.lastTriggerTime, cusum: cusum, cursor: cursor), now: now)
    }

    /// The last evaluation of each monitor, as `mlops monitor` shows it.
    public static func lastEvaluations(_ store: Store) throws -> [String: Evaluation] {
        try store.read { tx in
            var result: [String: Evaluation] = [:]
            for state in try MonitorRecords.all(tx) {
                if let text = state.lastEvaluationJSON, let evaluation = try? JSONDecoder().decode(Evaluation.self, from: Data(text.utf8)) {
                    result[state.monitor] = evaluation
                }
            }
            return result
        }
    }
}

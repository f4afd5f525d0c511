import Foundation
import GRDB
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

    /// Where each evaluation left off: the newest outcome it counted, by (recorded time, prediction).
    struct Cursor: Hashable, Comparable {
        var time: Int64
        var id: Int64
        static func < (a: Cursor, b: Cursor) -> Bool { (a.time, a.id) < (b.time, b.id) }
    }

    /// Evaluates now, updates the monitor's state (one transaction) and returns the evaluation.
    @discardableResult
    public func evaluate(now: Int64) throws -> Evaluation {
        try store.database.write { db in
            let champion = try Int.fetchOne(db, sql: "SELECT version FROM registered_model_aliases WHERE name = ? AND alias = 'champion'", arguments: [spec.model])
            let state = try Row.fetchOne(db, sql: "SELECT * FROM monitor_state WHERE monitor = ?", arguments: [spec.name])
            var evaluation = Evaluation(monitor: spec.name, model: spec.model, version: champion, time: now)
            evaluation.method = spec.method.rawValue
            guard let champion else {
                evaluation.reason = "model \(spec.model) has no champion"
                try save(db, evaluation, state: state, anchor: nil, cursor: nil, cusum: 0, now: now)
                return evaluation
            }
            let sameVersion = (state?["model_version"] as Int?) == champion
            let window = spec.window.milliseconds
            let counts = try MatureOutcomes.count(db, model: spec.model, version: champion, now: now, and: "o.observed_time > ?", [now - window])
            evaluation.trials = counts.trials
            evaluation.successes = counts.successes
            if counts.trials > 0 {
                evaluation.rate = Double(counts.successes) / Double(counts.trials)
                let interval = Proportions.wilson(successes: counts.successes, trials: counts.trials, confidence: spec.confidence)
                evaluation.lower = interval.lowerBound
                evaluation.upper = interval.upperBound
                evaluation.bound = Proportions.wilsonUpper(successes: counts.successes, trials: counts.trials, confidence: spec.confidence)
            }
            let previous: Cursor? = sameVersion ? (state?["last_outcome_time"] as Int64?).map { Cursor(time: $0, id: state?["cusum_outcome_id"] ?? 0) } : nil
            let newest = try Row.fetchOne(db, sql: "SELECT o.recorded_time, o.prediction_id \(MatureOutcomes.from) ORDER BY o.recorded_time DESC, o.prediction_id DESC LIMIT 1",
                                          arguments: [spec.model, champion, now]).map { Cursor(time: $0[0], id: $0[1]) }
            let fresh = newest.map { n in previous.map { n > $0 } ?? true } ?? false
            evaluation.newOutcomes = fresh
            if let entry = try FeatureDriftLog.latest(db, model: spec.model, version: champion, now: now) {
                evaluation.drift = DriftSnapshot(entry, settings: spec.drift)
            }

            let (anchor, waiting) = try baseline(db, champion: champion, state: sameVersion ? state : nil, now: now, into: &evaluation)
            var cusum = sameVersion ? (state?["cusum"] as Double? ?? 0) : 0
            let previousBreaches = sameVersion ? (state?["breaches"] as Int? ?? 0) : 0
            let lastTrigger = sameVersion ? state?["last_trigger_time"] as Int64? : nil
            let cooling = lastTrigger.map { now - $0 < spec.cooldown.milliseconds } ?? false
            let shown = { (x: Double) in String(format: "%.4f", x) }

            if let baseline = evaluation.baseline {
                var dropped = false
                switch spec.method {
                case .wilson:
                    if counts.trials >= spec.minSamples, let upper = evaluation.bound, let rate = evaluation.rate {
                        if upper < baseline - spec.maxDrop {
                            dropped = true
                            evaluation.reason = "hit rate \(shown(rate)) (upper bound \(shown(upper)) at \(Int(spec.confidence * 100))%) is below baseline \(shown(baseline)) − \(shown(spec.maxDrop))"
                        } else {
                            evaluation.verdict = .fine
                            evaluation.reason = "hit rate \(shown(rate)) (upper bound \(shown(upper))) is not significantly below baseline \(shown(baseline)) − \(shown(spec.maxDrop))"
                        }
                    }
                case .cusum:
                    var detector = BernoulliCUSUM(p0: baseline, p1: baseline - spec.maxDrop, threshold: spec.cusumThreshold, statistic: cusum)
                    let after = previous ?? Cursor(time: Int64.min, id: Int64.min)
                    let labels = try Bool.fetchAll(db, sql: """
                        SELECT o.label \(MatureOutcomes.from) AND (o.recorded_time > ? OR (o.recorded_time = ? AND o.prediction_id > ?))
                        ORDER BY o.recorded_time, o.prediction_id
                        """, arguments: [spec.model, champion, now, after.time, after.time, after.id])
                    for label in labels { detector.observe(label) }
                    cusum = detector.statistic
                    evaluation.cusum = cusum
                    evaluation.cusumThreshold = spec.cusumThreshold
                    let figures = "CUSUM \(shown(cusum)) of \(shown(spec.cusumThreshold)) for a drop from \(shown(baseline)) to \(shown(baseline - spec.maxDrop))"
                    if detector.alarmed {
                        dropped = true
                        evaluation.reason = "\(figures): alarm"
                    } else if counts.trials >= spec.minSamples {
                        evaluation.verdict = .fine
                        evaluation.reason = "\(figures): no alarm"
                    }
                }
                if dropped {
                    evaluation.verdict = .dropped
                    evaluation.breaches = previousBreaches + (fresh ? 1 : 0)
                    if !fresh { evaluation.reason += "; no new outcomes since the last evaluation, so the breach is not counted again" }
                    evaluation.shouldTrigger = fresh && evaluation.breaches >= spec.breachesToTrigger && !cooling
                    if cooling { evaluation.reason += "; in cooldown since the last trigger" }
                } else if evaluation.verdict == .insufficient {
                    evaluation.breaches = previousBreaches
                    evaluation.reason = "\(counts.trials) mature outcomes in the last \(spec.window), \(spec.minSamples) needed"
                }
            } else {
                evaluation.reason = waiting
            }
            if let drift = evaluation.drift, drift.drifted {
                evaluation.reason += "; features drifted: \(drift.driftedNames.joined(separator: ", "))"
                if spec.drift.trigger, !cooling, !evaluation.shouldTrigger, lastTrigger.map({ drift.time > $0 }) ?? true {
                    evaluation.shouldTrigger = true
                    evaluation.reason += " (drift triggers on its own)"
                }
            }
            if evaluation.shouldTrigger { cusum = 0 }
            try save(db, evaluation, state: state, anchor: anchor, cursor: newest ?? previous, cusum: cusum, now: now)
            if evaluation.verdict == .dropped && fresh {
                try Outbox.enqueue(db, .monitorBreach, model: spec.model, summary: "\(spec.name): \(evaluation.reason)",
                                   details: ["monitor": spec.name, "breaches": evaluation.breaches, "should_trigger": evaluation.shouldTrigger], now: now)
            }
            return evaluation
        }
    }

    /// The baseline, anchored now if this is the evaluation that can: a fixed number, the one kept
    /// in the state, or the hit rate of the first `window` of predictions after the version became
    /// champion, once their outcomes are known. Returns the new anchor, or why there is none yet.
    func baseline(_ db: Database, champion: Int, state: Row?, now: Int64,
                  into evaluation: inout Evaluation) throws -> (anchor: (value: Double, time: Int64)?, waiting: String) {
        switch spec.baseline {
        case let .value(value):
            evaluation.baseline = value
            evaluation.baselineSource = "fixed"
            return (nil, "")
        case .deployment:
            if let value = state?["baseline"] as Double? {
                evaluation.baseline = value
                evaluation.baselineSource = state?["baseline_source"] ?? "deployment"
                return (nil, "")
            }
            let promoted = try Int64.fetchOne(db, sql: """
                SELECT time FROM audit_log WHERE entity_type = 'alias' AND entity_id = ? AND action = 'move' AND to_state = ?
                ORDER BY id DESC LIMIT 1
                """, arguments: ["\(spec.model)@champion", String(champion)]) ?? 0
            let end = promoted + spec.window.milliseconds
            if now < end {
                return (nil, "no baseline yet: it is v\(champion)'s first \(spec.window) as champion, until \(Self.date(end))")
            }
            let first = try MatureOutcomes.count(db, model: spec.model, version: champion, now: now,
                                        and: "p.created_time >= ? AND p.created_time < ?", [promoted, end])
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

    func save(_ db: Database, _ evaluation: Evaluation, state: Row?, anchor: (value: Double, time: Int64)?, cursor: Cursor?,
              cusum: Double, now: Int64) throws {
        let text = String(decoding: try JSONEncoder().encode(evaluation), as: UTF8.self)
        let sameVersion = (state?["model_version"] as Int?) == evaluation.version
        try db.execute(sql: """
            INSERT INTO monitor_state (monitor, model_name, model_version, baseline, baseline_source, anchored_time, breaches, last_evaluation,
                                       last_trigger_time, updated_time, cusum, cusum_outcome_id, last_outcome_time,
                                       last_trigger_run, last_trigger_reason, last_decision)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (monitor) DO UPDATE SET model_name = excluded.model_name, model_version = excluded.model_version,
                baseline = excluded.baseline, baseline_source = excluded.baseline_source, anchored_time = excluded.anchored_time,
                breaches = excluded.breaches, last_evaluation = excluded.last_evaluation, last_trigger_time = excluded.last_trigger_time,
                updated_time = excluded.updated_time, cusum = excluded.cusum, cusum_outcome_id = excluded.cusum_outcome_id,
                last_outcome_time = excluded.last_outcome_time
            """, arguments: [
                evaluation.monitor, evaluation.model, evaluation.version,
                anchor?.value ?? (sameVersion ? state?["baseline"] as Double? : nil),
                anchor != nil ? evaluation.baselineSource : (sameVersion ? state?["baseline_source"] as String? : nil),
                anchor?.time ?? (sameVersion ? state?["anchored_time"] as Int64? : nil),
                evaluation.verdict == .fine ? 0 : evaluation.breaches,
                text,
                sameVersion ? state?["last_trigger_time"] as Int64? : nil,
                now, cusum, cursor?.id ?? 0, cursor?.time,
                nil as String?, nil as String?, nil as String?,
            ])
    }

    /// The last evaluation of each monitor, as `mlops monitor` shows it.
    public static func lastEvaluations(_ store: Store) throws -> [String: Evaluation] {
        try store.database.read { db in
            var result: [String: Evaluation] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT monitor, last_evaluation FROM monitor_state") {
                if let text = row["last_evaluation"] as String?, let evaluation = try? JSONDecoder().decode(Evaluation.self, from: Data(text.utf8)) {
                    result[row["monitor"]] = evaluation
                }
            }
            return result
        }
    }
}

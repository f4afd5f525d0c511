import Foundation
import GRDB
import MLOpsLearn

/// A hit-rate monitor: the champion's hit rate over the last `window` of predictions whose label
/// is mature, against a baseline. A drop is declared only when it is significant: the one-sided
/// Wilson upper bound of the current rate is below baseline − `max_drop`, with at least
/// `min_samples` outcomes, for `breaches_to_trigger` evaluations in a row. Below `min_samples`
/// the verdict is INSUFFICIENT, never "fine" nor "dropped". `baseline: deployment` anchors on the
/// first full window after the version became champion, and re-anchors on each promotion.
public struct HitRateMonitor: Sendable {
    public let store: Store
    public let spec: MonitorSpec

    public init(store: Store, spec: MonitorSpec) {
        self.store = store
        self.spec = spec
    }

    public enum Verdict: String, Sendable, Codable {
        case insufficient, fine, dropped
    }

    public struct Evaluation: Sendable, Hashable, Codable {
        public var monitor: String
        public var model: String
        public var version: Int?
        public var time: Int64
        public var trials: Int
        public var successes: Int
        public var rate: Double?
        /// The two-sided interval at `confidence`, for showing.
        public var lower: Double?
        public var upper: Double?
        /// The one-sided upper bound at `confidence`: what the verdict compares with the bar.
        public var bound: Double?
        public var baseline: Double?
        public var baselineSource: String
        public var verdict: Verdict
        /// Consecutive evaluations that found a significant drop, this one included.
        public var breaches: Int
        /// `breaches_to_trigger` reached, outside the cooldown: the retrain should start.
        public var shouldTrigger: Bool
        public var reason: String
    }

    /// The hit counts the monitor judges: the same mature-outcome count as a rollout's analysis,
    /// over every prediction of the version (in a rollout or not).
    static func window(_ db: Database, model: String, version: Int, since: Int64, until: Int64, now: Int64) throws -> (trials: Int, successes: Int) {
        let arm = try RolloutAnalysis.arm(db, model: model, version: version, rolloutID: nil, since: since, until: until, now: now)
        return (arm.trials, arm.successes)
    }

    /// Evaluates now, updates the monitor's state (one transaction) and returns the evaluation.
    @discardableResult
    public func evaluate(now: Int64) throws -> Evaluation {
        try store.database.write { db in
            let champion = try Int.fetchOne(db, sql: "SELECT version FROM registered_model_aliases WHERE name = ? AND alias = 'champion'", arguments: [spec.model])
            let state = try Row.fetchOne(db, sql: "SELECT * FROM monitor_state WHERE monitor = ?", arguments: [spec.name])
            var evaluation = Evaluation(monitor: spec.name, model: spec.model, version: champion, time: now, trials: 0, successes: 0,
                                        rate: nil, lower: nil, upper: nil, bound: nil, baseline: nil, baselineSource: "", verdict: .insufficient,
                                        breaches: 0, shouldTrigger: false, reason: "")
            guard let champion else {
                evaluation.reason = "model \(spec.model) has no champion"
                try save(db, evaluation, state: state, anchor: nil, now: now)
                return evaluation
            }
            let window = spec.window.milliseconds
            let counts = try Self.window(db, model: spec.model, version: champion, since: now - window, until: now, now: now)
            evaluation.trials = counts.trials
            evaluation.successes = counts.successes
            if counts.trials > 0 {
                evaluation.rate = Double(counts.successes) / Double(counts.trials)
                let interval = Proportions.wilson(successes: counts.successes, trials: counts.trials, confidence: spec.confidence)
                evaluation.lower = interval.lowerBound
                evaluation.upper = interval.upperBound
                evaluation.bound = Proportions.wilsonUpper(successes: counts.successes, trials: counts.trials, confidence: spec.confidence)
            }
            // The baseline: a number, or the version's first full window after it became champion.
            var anchor: (value: Double, time: Int64)?
            var waiting = "no baseline yet"
            let sameVersion = (state?["model_version"] as Int?) == champion
            switch spec.baseline {
            case let .value(value):
                evaluation.baseline = value
                evaluation.baselineSource = "fixed"
            case .deployment:
                if sameVersion, let value = state?["baseline"] as Double? {
                    evaluation.baseline = value
                    evaluation.baselineSource = state?["baseline_source"] ?? "deployment"
                } else {
                    let promoted = try Int64.fetchOne(db, sql: """
                        SELECT time FROM audit_log WHERE entity_type = 'alias' AND entity_id = ? AND action = 'move' AND to_state = ?
                        ORDER BY id DESC LIMIT 1
                        """, arguments: ["\(spec.model)@champion", String(champion)]) ?? 0
                    let first = try Self.window(db, model: spec.model, version: champion, since: promoted, until: promoted + window, now: now)
                    if now < promoted + window {
                        waiting = "no baseline yet: it is v\(champion)'s first \(spec.window) as champion, until \(Self.date(promoted + window))"
                    } else if first.trials < spec.minSamples {
                        waiting = "no baseline yet: v\(champion)'s first \(spec.window) as champion has \(first.trials) mature outcomes, \(spec.minSamples) needed"
                    } else {
                        let value = Double(first.successes) / Double(first.trials)
                        anchor = (value, now)
                        evaluation.baseline = value
                        evaluation.baselineSource = "first window after v\(champion) became champion"
                    }
                }
            }
            let previousBreaches = sameVersion ? (state?["breaches"] as Int? ?? 0) : 0
            guard let baseline = evaluation.baseline else {
                evaluation.reason = waiting
                try save(db, evaluation, state: state, anchor: nil, now: now)
                return evaluation
            }
            let shown = { (x: Double) in String(format: "%.4f", x) }
            guard counts.trials >= spec.minSamples, let upper = evaluation.bound, let rate = evaluation.rate else {
                evaluation.breaches = previousBreaches
                evaluation.reason = "\(counts.trials) mature outcomes in the last \(spec.window), \(spec.minSamples) needed"
                try save(db, evaluation, state: state, anchor: anchor, now: now)
                return evaluation
            }
            let bar = baseline - spec.maxDrop
            if upper < bar {
                evaluation.verdict = .dropped
                evaluation.breaches = previousBreaches + 1
                evaluation.reason = "hit rate \(shown(rate)) (upper bound \(shown(upper)) at \(Int(spec.confidence * 100))%) is below baseline \(shown(baseline)) − \(shown(spec.maxDrop))"
                let lastTrigger = sameVersion ? state?["last_trigger_time"] as Int64? : nil
                let cooling = lastTrigger.map { now - $0 < spec.cooldown.milliseconds } ?? false
                evaluation.shouldTrigger = evaluation.breaches >= spec.breachesToTrigger && !cooling
                if cooling { evaluation.reason += "; in cooldown since the last trigger" }
            } else {
                evaluation.verdict = .fine
                evaluation.reason = "hit rate \(shown(rate)) (upper bound \(shown(upper))) is not significantly below baseline \(shown(baseline)) − \(shown(spec.maxDrop))"
            }
            try save(db, evaluation, state: state, anchor: anchor, now: now)
            if evaluation.verdict == .dropped {
                try Outbox.enqueue(db, .monitorBreach, model: spec.model, summary: "\(spec.name): \(evaluation.reason)",
                                   details: ["monitor": spec.name, "breaches": evaluation.breaches, "should_trigger": evaluation.shouldTrigger], now: now)
            }
            return evaluation
        }
    }

    static func date(_ millis: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }

    func save(_ db: Database, _ evaluation: Evaluation, state: Row?, anchor: (value: Double, time: Int64)?, now: Int64) throws {
        let text = String(decoding: try JSONEncoder().encode(evaluation), as: UTF8.self)
        let sameVersion = (state?["model_version"] as Int?) == evaluation.version
        try db.execute(sql: """
            INSERT INTO monitor_state (monitor, model_name, model_version, baseline, baseline_source, anchored_time, breaches, last_evaluation,
                                       last_trigger_time, updated_time)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (monitor) DO UPDATE SET model_name = excluded.model_name, model_version = excluded.model_version,
                baseline = excluded.baseline, baseline_source = excluded.baseline_source, anchored_time = excluded.anchored_time,
                breaches = excluded.breaches, last_evaluation = excluded.last_evaluation, last_trigger_time = excluded.last_trigger_time,
                updated_time = excluded.updated_time
            """, arguments: [
                evaluation.monitor, evaluation.model, evaluation.version,
                anchor?.value ?? (sameVersion ? state?["baseline"] as Double? : nil),
                anchor != nil ? evaluation.baselineSource : (sameVersion ? state?["baseline_source"] as String? : nil),
                anchor?.time ?? (sameVersion ? state?["anchored_time"] as Int64? : nil),
                evaluation.verdict == .fine ? 0 : evaluation.breaches,
                text,
                evaluation.shouldTrigger ? now : (sameVersion ? state?["last_trigger_time"] as Int64? : nil),
                now,
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

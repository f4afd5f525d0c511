import Foundation
import MLOpsLearn

/// `uses: gate`: a candidate earns its place by rules on the metrics upstream stages measured.
/// Absolute: `{ metric: auc, min: 0.70 }`, `{ metric: ece, max: 0.05 }`. Relative to the champion
/// scored on the same evaluation rows (an evaluate stage with `champion: MODEL`):
/// `{ metric: auc, vs: champion, max_drop: 0.01 }`, optionally with a test that the drop is not
/// larger at a confidence: `test: delong` (AUC) or `test: two_proportion` (hit_rate_at_k), `alpha: 0.05`.
/// With no champion yet, relative rules pass and say so. Each rule's value, bound, verdict and
/// reason is recorded; one failure fails the stage (and skips deploy) with the reason.
struct GateStage: Stage {
    static let keys = ["rules", "model"]

    var with: [String: SpecValue]

    struct Rule {
        var metric: String
        var min: Double?
        var max: Double?
        /// Relative to the champion: the largest drop allowed.
        var maxDrop: Double?
        var test: String?
        var alpha: Double
    }

    static func rules(_ with: [String: SpecValue], stage: String) throws -> [Rule] {
        guard case let .list(items)? = with["rules"], !items.isEmpty else {
            throw StageSettings.Failure(message: "\(stage): `rules` lists at least one rule, e.g. { metric: auc, min: 0.70 }")
        }
        return try items.enumerated().map { i, item in
            guard case let .map(fields) = item, let metric = fields["metric"]?.string else {
                throw StageSettings.Failure(message: "\(stage): rule \(i + 1) needs `metric:`")
            }
            let allowed = ["metric", "min", "max", "vs", "max_drop", "test", "alpha"]
            if let key = Set(fields.keys).subtracting(allowed).sorted().first {
                throw StageSettings.Failure(message: "\(stage): rule \(i + 1) has unknown key '\(key)'"
                    + (Suggestion.hint(for: key, in: allowed).map { "; \($0)" } ?? " (a rule has \(allowed.joined(separator: ", ")))"))
            }
            var rule = Rule(metric: metric, min: fields["min"]?.double, max: fields["max"]?.double, maxDrop: nil,
                            test: fields["test"]?.string, alpha: fields["alpha"]?.double ?? 0.05)
            if let vs = fields["vs"]?.description {
                guard vs == "champion" else { throw StageSettings.Failure(message: "\(stage): rule \(i + 1): `vs` is champion, not '\(vs)'") }
                rule.maxDrop = fields["max_drop"]?.double ?? 0
            }
            if let test = rule.test {
                let fits = (test == "delong" && metric == "auc") || (test == "two_proportion" && metric == "hit_rate_at_k")
                guard rule.maxDrop != nil, fits else {
                    throw StageSettings.Failure(message: "\(stage): rule \(i + 1): `test: \(test)` needs `vs: champion` and applies to "
                        + (test == "delong" ? "auc" : test == "two_proportion" ? "hit_rate_at_k" : "auc (delong) or hit_rate_at_k (two_proportion)"))
                }
            }
            if rule.min == nil && rule.max == nil && rule.maxDrop == nil {
                throw StageSettings.Failure(message: "\(stage): rule \(i + 1) on \(metric) has neither min, max nor vs: champion")
            }
            return rule
        }
    }

    func run(_ context: StageContext, started: @Sendable (AttemptHandle) -> Void) async -> StageTermination {
        StageFiles.run {
            let rules = try Self.rules(with, stage: context.stage)
            // The nearest upstream stage that measured a metric wins.
            var measured: [String: Double] = [:]
            var reported: [String: String] = [:]
            // A stage's run in the store has what it reported in any way: metrics.json, `mlops log`,
            // or `mlflow.log_metric` through the tracking API.
            let tracker = Tracker(store: context.store)
            for input in context.inputs.reversed() {
                if let runID = input.runID, let metrics = try? tracker.latestMetrics(of: runID), let params = try? tracker.params(of: runID) {
                    for point in metrics { measured[point.key] = point.value }
                    reported.merge(params) { _, new in new }
                } else if let report = try? StageReports.read(artifactsDirectory: input.artifacts) {
                    for point in report.metrics { measured[point.key] = point.value }
                    reported.merge(report.params) { _, new in new }
                }
            }
            var failures: [String] = []
            var params: [String: String] = [:]
            var metrics: [String: Double] = [:]
            for (i, rule) in rules.enumerated() {
                if let maxDrop = rule.maxDrop {
                    let (verdict, reason) = try relative(rule, maxDrop: maxDrop, measured: measured, reported: reported, context: context)
                    if verdict != .pass { failures.append(reason) }
                    params["rule_\(i + 1)"] = "\(reason): \(verdict == .pass ? "pass" : "fail")"
                    metrics["gate_\(rule.metric)_vs_champion_passed"] = verdict == .pass ? 1 : 0
                    continue
                }
                guard let value = measured[rule.metric] else {
                    failures.append("\(rule.metric) was not measured upstream")
                    params["rule_\(i + 1)"] = "\(rule.metric): not measured: fail"
                    continue
                }
                var verdict = "pass"
                if let min = rule.min, !(value >= min) {
                    failures.append("\(rule.metric) \(Self.show(value)) < min \(Self.show(min))")
                    verdict = "fail"
                }
                if let max = rule.max, !(value <= max) {
                    failures.append("\(rule.metric) \(Self.show(value)) > max \(Self.show(max))")
                    verdict = "fail"
                }
                let bounds = [rule.min.map { "min \(Self.show($0))" }, rule.max.map { "max \(Self.show($0))" }].compactMap { $0 }.joined(separator: ", ")
                params["rule_\(i + 1)"] = "\(rule.metric) \(Self.show(value)) (\(bounds)): \(verdict)"
                metrics["gate_\(rule.metric)_passed"] = verdict == "pass" ? 1 : 0
            }
            metrics["gate_passed"] = failures.isEmpty ? 1 : 0
            try StageFiles.report(metrics: metrics, params: params, in: context)
            if !failures.isEmpty {
                let reason = "gate failed: " + failures.joined(separator: "; ")
                try markCandidate(reason: reason, reported: reported, context: context)
                throw StageSettings.Failure(message: reason)
            }
        }
    }

    /// A failed candidate is kept, and says why: it is registered (if deploy has not already done
    /// so) and tagged `gate=failed`; a rollout of it under way is rolled back.
    func markCandidate(reason: String, reported: [String: String], context: StageContext) throws {
        guard let name = with["model"]?.description ?? reported["champion_model"],
              let source = context.input(with: "model.json"), let runID = source.runID else { return }
        let registry = ModelRegistry(store: context.store, directory: context.workspace.registryDirectory)
        let candidate = try registry.version(registeredFrom: runID, name: name)
            ?? registry.register(name: name, from: source.artifacts, runID: runID,
                                 tags: ["mlops.job": context.job, "mlops.job_run": context.parentRunID])
        try registry.tag(name, candidate.version, ["gate": "failed", "gate_reason": reason])
        let controller = RolloutController(store: context.store)
        if let rollout = try controller.rollouts.inFlight(name), rollout.candidateVersion == candidate.version {
            try controller.abort(name, reason: reason, now: context.store.nowMillis())
            context.echo?(.stderr, "rollout of \(name) v\(candidate.version) rolled back: \(reason)")
        }
    }

    /// A rule against the champion: the plain drop, or a test that the drop is not larger than
    /// `max_drop` at 1 − alpha. Insufficient evidence fails a gate: a candidate must show it is fit.
    func relative(_ rule: Rule, maxDrop: Double, measured: [String: Double], reported: [String: String],
                  context: StageContext) throws -> (Verdict, String) {
        guard let championVersion = reported["champion_version"] else {
            throw StageSettings.Failure(message: "\(context.stage): `vs: champion` needs an upstream evaluate stage with `champion: MODEL`")
        }
        if championVersion == "none" { return (.pass, "\(rule.metric) vs champion: no champion yet, so the relative rule passes") }
        guard let value = measured[rule.metric], let champion = measured["champion_\(rule.metric)"] else {
            return (.fail, "\(rule.metric) vs champion: not measured for both models")
        }
        let drop = "\(rule.metric) \(Self.show(value)) vs champion v\(championVersion) \(Self.show(champion))"
        switch rule.test {
        case "delong"?:
            guard let path = context.inputFile("evaluation.csv") else { return (.fail, "\(drop): evaluation.csv is missing") }
            let table = try StageFiles.readTable(path: path, required: ["label", "score", "champion_score"])
            let result = PairedAUC.compare(candidate: table.numeric("score")!, reference: table.numeric("champion_score")!,
                                           labels: table.numeric("label")!.map { $0 == 1 }, margin: maxDrop, alpha: rule.alpha)
            return (result.verdict, result.verdict == .insufficient ? "insufficient evidence: \(result.reason)" : result.reason)
        case "two_proportion"?:
            guard let hits = measured["hits_at_k"], let championHits = measured["champion_hits_at_k"], let k = measured["k"] else {
                return (.fail, "\(drop): the hit counts at k were not measured")
            }
            let result = Proportions.nonInferiority(candidateSuccesses: Int(hits), candidateTrials: Int(k), stableSuccesses: Int(championHits),
                                                    stableTrials: Int(k), margin: maxDrop, alpha: rule.alpha)
            return (result.verdict, result.verdict == .insufficient ? "insufficient evidence: \(result.reason)" : result.reason)
        default:
            return value >= champion - maxDrop
                ? (.pass, "\(drop): drop within \(Self.show(maxDrop))")
                : (.fail, "\(drop): dropped more than \(Self.show(maxDrop))")
        }
    }

    static func show(_ value: Double) -> String {
        var text = String(format: "%.4f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text += "0" }
        return text
    }
}

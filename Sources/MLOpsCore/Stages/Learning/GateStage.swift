import Foundation
import MLOpsLearn

/// `uses: gate`: a candidate earns its place by rules on the metrics upstream stages measured,
/// e.g. `rules: [ { metric: auc, min: 0.70 }, { metric: ece, max: 0.05 } ]`. Each rule's value,
/// bound and verdict is recorded; one failure fails the stage (and skips deploy) with the reason.
struct GateStage: Stage {
    static let keys = ["rules"]

    var with: [String: SpecValue]

    struct Rule {
        var metric: String
        var min: Double?
        var max: Double?
    }

    static func rules(_ with: [String: SpecValue], stage: String) throws -> [Rule] {
        guard case let .list(items)? = with["rules"], !items.isEmpty else {
            throw StageSettings.Failure(message: "\(stage): `rules` lists at least one rule, e.g. { metric: auc, min: 0.70 }")
        }
        return try items.enumerated().map { i, item in
            guard case let .map(fields) = item, let metric = fields["metric"]?.string else {
                throw StageSettings.Failure(message: "\(stage): rule \(i + 1) needs `metric:`")
            }
            let unknown = Set(fields.keys).subtracting(["metric", "min", "max"])
            if let key = unknown.sorted().first {
                throw StageSettings.Failure(message: "\(stage): rule \(i + 1) has unknown key '\(key)' (a rule has metric, min, max)")
            }
            let rule = Rule(metric: metric, min: fields["min"]?.double, max: fields["max"]?.double)
            if rule.min == nil && rule.max == nil {
                throw StageSettings.Failure(message: "\(stage): rule \(i + 1) on \(metric) has neither min nor max")
            }
            return rule
        }
    }

    func run(_ context: StageContext, started: @Sendable (ProcessIdentity) -> Void) async -> StageTermination {
        StageFiles.run {
            let rules = try Self.rules(with, stage: context.stage)
            // The nearest upstream stage that measured a metric wins.
            var measured: [String: Double] = [:]
            for input in context.inputs.reversed() {
                if let report = try? StageReports.read(artifactsDirectory: input.artifacts) {
                    for point in report.metrics { measured[point.key] = point.value }
                }
            }
            var failures: [String] = []
            var params: [String: String] = [:]
            var metrics: [String: Double] = [:]
            for (i, rule) in rules.enumerated() {
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
            if !failures.isEmpty { throw StageSettings.Failure(message: "gate failed: " + failures.joined(separator: "; ")) }
        }
    }

    static func show(_ value: Double) -> String {
        var text = String(format: "%.4f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text += "0" }
        return text
    }
}

import Yams

/// Reads a deploy stage's `with:`; every problem is reported with its place.
enum DeploySpecParser {
    static let keys = ["model", "strategy", "steps", "keep_previous_for", "on_inconclusive", "in_flight", "pre_promotion"]

    static func parse(_ node: Node?, path: String, reader: inout SpecReader) -> DeploySpec? {
        guard let node else {
            reader.error(at: nil, path, "deploy needs `with:` naming at least the `model`")
            return nil
        }
        guard let entries = reader.mapping(node, path, allowed: keys) else { return nil }
        var spec = DeploySpec(model: "", strategy: .replace, steps: [], keepPreviousFor: nil, onInconclusive: .pause)
        var stepsNode: Node?
        var stepsWritten = 0
        for (key, _, value) in entries {
            let fieldPath = "\(path).\(key)"
            switch key {
            case "model": spec.model = reader.string(value, fieldPath) ?? ""
            case "strategy": spec.strategy = reader.choice(value, fieldPath, as: DeploySpec.Strategy.self) ?? .replace
            case "keep_previous_for": spec.keepPreviousFor = reader.duration(value, fieldPath)
            case "on_inconclusive": spec.onInconclusive = reader.choice(value, fieldPath, as: DeploySpec.OnInconclusive.self) ?? .pause
            case "in_flight": spec.inFlight = reader.choice(value, fieldPath, as: DeploySpec.InFlight.self) ?? .refuse
            case "pre_promotion":
                for (k, _, v) in reader.mapping(value, fieldPath, allowed: ["sample", "max_latency_ms"]) ?? [] {
                    if k == "sample" { spec.preCheck.sample = reader.int(v, "\(fieldPath).sample", min: 1) ?? 500 }
                    else { spec.preCheck.maxLatencyMillis = reader.double(v, "\(fieldPath).max_latency_ms") ?? 5 }
                }
            case "steps":
                stepsNode = value
                guard case let .sequence(items) = value else {
                    reader.error(value, fieldPath, "expected a list of steps, found \(SpecReader.describe(value))")
                    continue
                }
                stepsWritten = items.count
                for (i, item) in items.enumerated() {
                    if let step = parseStep(item, path: "\(fieldPath)[\(i)]", reader: &reader) { spec.steps.append(step) }
                }
            default: break
            }
        }
        if !entries.contains(where: { $0.key == "model" }) {
            reader.error(node, "\(path).model", "deploy has no `model:`", hint: "name the registered model to promote")
        }
        if spec.strategy == .canary {
            if stepsWritten == 0 {
                reader.error(stepsNode ?? node, "\(path).steps", "a canary needs `steps:`",
                             hint: "e.g. [ {set_weight: 10}, {bake: {min_duration: 7d, min_samples: 400}}, {analysis: hit_rate}, {set_weight: 50} ]")
            }
            for step in spec.steps {
                if case let .bake(minDuration, minSamples, _) = step, minDuration == nil, minSamples == nil {
                    reader.error(stepsNode, "\(path).steps", "a bake needs `min_duration` or `min_samples`",
                                 hint: "a bake with neither would pass at once")
                }
            }
        } else if spec.strategy == .blueGreen, let stepsNode,
                  spec.steps.contains(where: { if case .setWeight = $0 { true } else { false } }) {
            reader.error(stepsNode, "\(path).steps", "blue-green switches all traffic at once; its `steps:` are the post-promotion bake and analysis",
                         hint: "use `strategy: canary` for gradual weights")
        } else if spec.strategy == .replace, !spec.steps.isEmpty, let stepsNode {
            reader.error(stepsNode, "\(path).steps", "`steps:` apply to `strategy: canary` and `blue_green` only")
        }
        return spec
    }

    /// The metrics an analysis can judge on binary outcomes.
    static let analysisMetrics = ["hit_rate"]

    static func checkMetric(_ metric: String, _ node: Node, _ path: String, _ reader: inout SpecReader) -> String? {
        guard analysisMetrics.contains(metric) else {
            reader.error(node, path, "an analysis judges \(analysisMetrics.joined(separator: ", ")), not '\(metric)'")
            return nil
        }
        return metric
    }

    /// The spec of a deploy stage at run time, from its `with:` once params are substituted.
    static func parse(_ with: [String: SpecValue], stage: String) throws -> DeploySpec {
        let node = try Yams.compose(yaml: SpecValue.map(with).jsonText)
        var reader = SpecReader(file: "\(stage).with")
        guard let spec = parse(node, path: "\(stage).with", reader: &reader), reader.diagnostics.isEmpty else {
            throw StageSettings.Failure(message: reader.diagnostics.map { "\($0.path): \($0.message)" }.joined(separator: "; "))
        }
        return spec
    }

    static func parseStep(_ node: Node, path: String, reader: inout SpecReader) -> DeploySpec.Step? {
        let stepKeys = ["set_weight", "bake", "analysis", "pause"]
        guard let entries = reader.mapping(node, path, allowed: stepKeys, what: "a step such as `set_weight: 10`"),
              let (key, _, value) = entries.first else { return nil }
        if entries.count > 1 {
            reader.error(node, path, "a step has one key, found \(entries.map(\.key).joined(separator: ", "))",
                         hint: "split it into separate list items")
        }
        let fieldPath = "\(path).\(key)"
        switch key {
        case "set_weight":
            return reader.int(value, fieldPath, min: 0, max: 100).map(DeploySpec.Step.setWeight)
        case "analysis":
            if case .scalar = value {
                return reader.string(value, fieldPath).flatMap { checkMetric($0, value, fieldPath, &reader) }.map { DeploySpec.Step.analysis(metric: $0) }
            }
            guard let items = reader.mapping(value, fieldPath, allowed: ["metric", "margin", "alpha"]) else { return nil }
            var metric = "hit_rate", margin = 0.02, alpha = 0.05
            for (k, _, v) in items {
                switch k {
                case "metric": metric = reader.string(v, "\(fieldPath).metric").flatMap { checkMetric($0, v, "\(fieldPath).metric", &reader) } ?? metric
                case "margin": margin = reader.double(v, "\(fieldPath).margin", range: 0...1) ?? margin
                default: alpha = reader.double(v, "\(fieldPath).alpha", range: 0.0001...0.5) ?? alpha
                }
            }
            return .analysis(metric: metric, margin: margin, alpha: alpha)
        case "pause":
            if case .mapping = value, let items = reader.mapping(value, fieldPath, allowed: ["duration"]) {
                return .pause(duration: items.first.flatMap { reader.duration($0.value, "\(fieldPath).duration") })
            }
            return .pause(duration: nil)
        default:
            guard let items = reader.mapping(value, fieldPath, allowed: ["min_duration", "min_samples", "max_duration"]) else { return nil }
            var minDuration: SpecDuration?, minSamples: Int?, maxDuration: SpecDuration?
            for (k, _, v) in items {
                switch k {
                case "min_duration": minDuration = reader.duration(v, "\(fieldPath).\(k)")
                case "min_samples": minSamples = reader.int(v, "\(fieldPath).\(k)", min: 1)
                default: maxDuration = reader.duration(v, "\(fieldPath).\(k)")
                }
            }
            if let minDuration, let maxDuration, maxDuration < minDuration {
                reader.error(value, fieldPath, "max_duration \(maxDuration) is shorter than min_duration \(minDuration)")
            }
            return .bake(minDuration: minDuration, minSamples: minSamples, maxDuration: maxDuration)
        }
    }
}

import Yams

/// Reads a deploy stage's `with:`; every problem is reported with its place.
enum DeploySpecParser {
    static let keys = ["model", "strategy", "steps", "keep_previous_for", "on_inconclusive"]

    static func parse(_ node: Node?, path: String, reader: inout SpecReader) -> DeploySpec? {
        guard let node else {
            reader.error(at: nil, path, "deploy needs `with:` naming at least the `model`")
            return nil
        }
        guard let entries = reader.mapping(node, path, allowed: keys) else { return nil }
        var spec = DeploySpec(model: "", strategy: .replace, steps: [], keepPreviousFor: nil, onInconclusive: .pause)
        var stepsNode: Node?
        for (key, _, value) in entries {
            let fieldPath = "\(path).\(key)"
            switch key {
            case "model": spec.model = reader.string(value, fieldPath) ?? ""
            case "strategy": spec.strategy = reader.choice(value, fieldPath, as: DeploySpec.Strategy.self) ?? .replace
            case "keep_previous_for": spec.keepPreviousFor = reader.duration(value, fieldPath)
            case "on_inconclusive": spec.onInconclusive = reader.choice(value, fieldPath, as: DeploySpec.OnInconclusive.self) ?? .pause
            case "steps":
                stepsNode = value
                guard case let .sequence(items) = value else {
                    reader.error(value, fieldPath, "expected a list of steps, found \(SpecReader.describe(value))")
                    continue
                }
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
            if spec.steps.isEmpty {
                reader.error(stepsNode ?? node, "\(path).steps", "a canary needs `steps:`",
                             hint: "e.g. [ {set_weight: 10}, {bake: {min_duration: 7d, min_samples: 400}}, {analysis: hit_rate}, {set_weight: 50} ]")
            }
            for step in spec.steps {
                if case let .bake(minDuration, minSamples, _) = step, minDuration == nil, minSamples == nil {
                    reader.error(stepsNode, "\(path).steps", "a bake needs `min_duration` or `min_samples`",
                                 hint: "a bake with neither would pass at once")
                }
            }
        } else if spec.strategy != .canary, !spec.steps.isEmpty, let stepsNode {
            reader.error(stepsNode, "\(path).steps", "`steps:` apply to `strategy: canary` only")
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
            return reader.string(value, fieldPath).map { DeploySpec.Step.analysis(metric: $0) }
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

import Foundation
import Yams

extension SpecParser {
    static let monitorKeys = ["model", "metric", "baseline", "window", "min_samples", "max_drop", "confidence",
                              "cooldown", "breaches_to_trigger", "on_drop", "max_retrains", "method", "cusum_threshold", "every", "drift"]

    static func parseMonitor(name: String, keyNode: Node, node: Node, reader: inout SpecReader) -> MonitorSpec? {
        let path = "monitors.\(name)"
        guard let entries = reader.mapping(node, path, allowed: monitorKeys, what: "a monitor (a mapping with `model:` and `metric:`)") else { return nil }
        var monitor = MonitorSpec(name: name, model: "", metric: "", baseline: .deployment, window: .seconds(7 * 86_400),
                                  minSamples: 200, maxDrop: 0.05, confidence: 0.95, cooldown: .seconds(7 * 86_400),
                                  breachesToTrigger: 1, onDropRun: nil, location: reader.location(keyNode))
        for (key, _, value) in entries {
            let fieldPath = "\(path).\(key)"
            switch key {
            case "model": monitor.model = reader.string(value, fieldPath) ?? ""
            case "metric": monitor.metric = reader.string(value, fieldPath) ?? ""
            case "baseline":
                if case let .scalar(scalar) = value, SpecReader.kind(of: scalar, node: value) == .string {
                    if scalar.string == "deployment" { monitor.baseline = .deployment } else {
                        reader.error(value, fieldPath, "baseline is `deployment` or a number, found '\(scalar.string)'")
                    }
                } else if let number = reader.double(value, fieldPath, range: 0...1) {
                    monitor.baseline = .value(number)
                }
            case "window": monitor.window = reader.duration(value, fieldPath) ?? monitor.window
            case "min_samples": monitor.minSamples = reader.int(value, fieldPath, min: 1) ?? monitor.minSamples
            case "max_drop": monitor.maxDrop = reader.double(value, fieldPath, range: 0...1) ?? monitor.maxDrop
            case "confidence":
                if let c = reader.double(value, fieldPath, range: 0.5...0.9999) { monitor.confidence = c }
            case "cooldown": monitor.cooldown = reader.duration(value, fieldPath) ?? monitor.cooldown
            case "breaches_to_trigger": monitor.breachesToTrigger = reader.int(value, fieldPath, min: 1) ?? 1
            case "max_retrains":
                if let items = reader.mapping(value, fieldPath, allowed: ["count", "period"], what: "a mapping like `{ count: 2, period: 30d }`") {
                    var count = 1, period = SpecDuration(milliseconds: 30 * 86_400_000)
                    for (k, _, v) in items {
                        if k == "count" { count = reader.int(v, "\(fieldPath).count", min: 1) ?? count }
                        else { period = reader.duration(v, "\(fieldPath).period") ?? period }
                    }
                    monitor.maxRetrains = (count, period)
                }
            case "method": monitor.method = reader.choice(value, fieldPath, as: MonitorSpec.Method.self) ?? .wilson
            case "cusum_threshold": monitor.cusumThreshold = reader.double(value, fieldPath, range: 0.1...100) ?? monitor.cusumThreshold
            case "every": monitor.every = reader.duration(value, fieldPath) ?? monitor.every
            case "drift":
                if let items = reader.mapping(value, fieldPath, allowed: ["psi", "alpha", "max_share", "trigger"],
                                              what: "a mapping like `{ psi: 0.2, alpha: 0.05, max_share: 0.5, trigger: false }`") {
                    for (k, _, v) in items {
                        let p = "\(fieldPath).\(k)"
                        switch k {
                        case "psi": monitor.drift.psi = reader.double(v, p, range: 0.001...10) ?? monitor.drift.psi
                        case "alpha": monitor.drift.alpha = reader.double(v, p, range: 0.0001...0.5) ?? monitor.drift.alpha
                        case "max_share": monitor.drift.maxShare = reader.double(v, p, range: 0.01...1) ?? monitor.drift.maxShare
                        default: monitor.drift.trigger = reader.bool(v, p) ?? monitor.drift.trigger
                        }
                    }
                }
            case "on_drop":
                if let items = reader.mapping(value, fieldPath, allowed: ["run", "params"], what: "a mapping like `{ run: JOB, params: { k: v } }`") {
                    for (k, _, v) in items {
                        if k == "run" { monitor.onDropRun = reader.string(v, "\(fieldPath).run") }
                        else if let params = reader.mapping(v, "\(fieldPath).params", what: "a mapping of the job's params to values") {
                            for (name, _, p) in params { monitor.onDropParams[name] = reader.value(p) }
                        }
                    }
                }
            default: break
            }
        }
        for (field, value) in [("model", monitor.model), ("metric", monitor.metric)] where value.isEmpty
            && !entries.contains(where: { $0.key == field }) {
            reader.error(keyNode, "\(path).\(field)", "monitor '\(name)' has no `\(field):`")
        }
        return monitor
    }
}

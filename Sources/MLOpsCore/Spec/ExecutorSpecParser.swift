import Foundation
import Yams

/// Reads `executors:` (the workspace's defaults), a job's and a stage's `executor:`, and lays them
/// over one another into each stage's `ExecutorSpec`, reporting every bad field with its location.
enum ExecutorSpecParser {
    static let rayKeys = ["address", "working_dir", "num_cpus", "num_gpus", "memory", "resources", "env",
                          "pending_timeout", "auth_token_env", "tracking_url"]
    static let kinds = ["local", "ray"]

    /// A job's or a stage's `executor:` before it is laid over the defaults.
    enum Choice {
        case local
        case ray(RaySpec)
    }

    /// The workspace's `executors:`: a mapping of executor kinds to their default settings.
    static func parseDefaults(_ node: Node, reader: inout SpecReader) -> RaySpec? {
        guard let entries = reader.mapping(node, "executors", allowed: kinds, what: "a mapping like `ray: { address: http://head:8265 }`") else { return nil }
        var ray: RaySpec?
        for (key, _, value) in entries where key == "ray" {
            ray = parseRay(value, "executors.ray", reader: &reader)
        }
        return ray
    }

    /// `executor: ray`, `executor: local`, or `executor: { ray: { … } }`.
    static func parseChoice(_ node: Node, _ path: String, reader: inout SpecReader) -> Choice? {
        if case let .scalar(scalar) = node {
            switch scalar.string {
            case "local": return .local
            case "ray": return .ray(RaySpec())
            default:
                reader.error(node, path, "unknown executor '\(scalar.string)'",
                             hint: Suggestion.hint(for: scalar.string, in: kinds) ?? "executors are local and ray")
                return nil
            }
        }
        guard let entries = reader.mapping(node, path, allowed: kinds, what: "an executor: local, ray, or `{ ray: { … } }`") else { return nil }
        guard entries.count == 1, let (key, _, value) = entries.first else {
            reader.error(node, path, "name one executor", hint: "write `ray: { … }` or `local`, not both")
            return nil
        }
        if key == "local" { return .local }
        if case let .scalar(scalar) = value, ScalarKind(scalar) == .null { return .ray(RaySpec()) }
        return .ray(parseRay(value, "\(path).ray", reader: &reader))
    }

    static func parseRay(_ node: Node, _ path: String, reader: inout SpecReader) -> RaySpec {
        var spec = RaySpec()
        guard let entries = reader.mapping(node, path, allowed: rayKeys, what: "Ray settings (address, num_cpus, …)") else { return spec }
        let root = (reader.file as NSString).deletingLastPathComponent
        for (key, _, value) in entries {
            let field = "\(path).\(key)"
            switch key {
            case "address":
                if let text = reader.string(value, field), checkURL(text, value, field, reader: &reader) { spec.address = text }
            case "tracking_url":
                if let text = reader.string(value, field), checkURL(text, value, field, reader: &reader) { spec.trackingURL = text }
            case "working_dir":
                guard let text = reader.string(value, field) else { continue }
                let full = text.hasPrefix("/") ? text : "\(root.isEmpty ? "." : root)/\(text)"
                var isDirectory: ObjCBool = false
                if !FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory) || !isDirectory.boolValue {
                    reader.error(value, field, "no folder '\(text)' (looked for \(full))",
                                 hint: "working_dir is a folder, relative to the workspace, uploaded as the Ray job's working directory")
                } else {
                    spec.workingDir = text
                }
            case "num_cpus": spec.numCPUs = positive(value, field, reader: &reader, allowZero: false)
            case "num_gpus": spec.numGPUs = positive(value, field, reader: &reader, allowZero: true)
            case "memory":
                guard let text = reader.scalarText(value, field, expected: "a size like 4GiB or 512MB") else { continue }
                if let bytes = ByteCount.parse(text) { spec.memory = bytes } else {
                    reader.error(value, field, "'\(text)' is not a size", hint: "write bytes or a size like 4GiB, 512MiB, 2GB")
                }
            case "resources":
                guard let items = reader.mapping(value, field, what: "a mapping of resource names to amounts") else { continue }
                for (name, _, amount) in items {
                    if let number = positive(amount, "\(field).\(name)", reader: &reader, allowZero: true) { spec.resources[name] = number }
                }
            case "env":
                guard let items = reader.mapping(value, field, what: "a mapping of variable names to values") else { continue }
                for (name, keyNode, item) in items {
                    if !validVariable(name) {
                        reader.error(keyNode, "\(field).\(name)", "'\(name)' is not a variable name", hint: "use letters, digits and '_', not starting with a digit")
                    } else if let text = reader.scalarText(item, "\(field).\(name)", expected: "a value") {
                        spec.env[name] = text
                    }
                }
            case "pending_timeout":
                if let duration = reader.duration(value, field) {
                    if duration.milliseconds <= 0 { reader.error(value, field, "pending_timeout must be longer than 0") } else { spec.pendingTimeout = duration }
                }
            case "auth_token_env":
                if let text = reader.string(value, field) {
                    if validVariable(text) { spec.authTokenEnv = text } else {
                        reader.error(value, field, "'\(text)' is not a variable name", hint: "name the variable that holds the token, e.g. RAY_TOKEN")
                    }
                }
            default: break
            }
        }
        return spec
    }

    /// The stage's executor: its own `executor:` over its job's, over the workspace's default.
    /// Built-in stages run in the runner, so only `run:` stages take the job's executor.
    static func resolve(stage: Choice?, job: Choice?, defaults: RaySpec?, isCommand: Bool) -> ExecutorSpec {
        func laid(_ choice: Choice?, over base: ExecutorSpec) -> ExecutorSpec {
            switch (choice, base) {
            case (nil, _): return base
            case (.local?, _): return .local
            case let (.ray(spec)?, .ray(below)): return .ray(below.overlaid(with: spec))
            case let (.ray(spec)?, .local): return .ray((defaults ?? RaySpec()).overlaid(with: spec))
            }
        }
        let jobLevel = isCommand ? laid(job, over: .local) : .local
        return laid(stage, over: jobLevel)
    }

    /// Checks a resolved stage's Ray settings as a whole: a loopback tracking URL cannot be reached
    /// from a cluster that is not on this machine.
    static func checkResolved(_ spec: ExecutorSpec, at node: Node?, _ path: String, reader: inout SpecReader) {
        guard case let .ray(ray) = spec, let tracking = ray.trackingURL, let address = ray.address else { return }
        if let problem = RayAddressCheck.trackingProblem(trackingURL: tracking, rayAddress: address) {
            reader.error(node, path, problem.message, hint: problem.hint)
        }
    }

    static func checkURL(_ text: String, _ node: Node, _ path: String, reader: inout SpecReader) -> Bool {
        guard RayAddressCheck.isHTTPURL(text) else {
            reader.error(node, path, "'\(text)' is not an http(s) URL", hint: "write it as http://HOST:PORT, e.g. http://ray-head:8265")
            return false
        }
        return true
    }

    static func positive(_ node: Node, _ path: String, reader: inout SpecReader, allowZero: Bool) -> Double? {
        guard let value = reader.double(node, path) else { return nil }
        if value < 0 || (!allowZero && value == 0) || !value.isFinite {
            reader.error(node, path, "\(path.split(separator: ".").last ?? "") must be \(allowZero ? "0 or more" : "more than 0"), found \(value)")
            return nil
        }
        return value
    }

    static func validVariable(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
    }
}

/// Whether a job on a Ray cluster can reach the MLflow API it is given: a loopback address is this
/// machine only, so it works only with a Ray head on this machine too.
public enum RayAddressCheck {
    public struct Problem: Sendable {
        public var message: String
        public var hint: String
    }

    /// An http(s) URL with a host: what a Ray address or a tracking URL must be.
    public static func isHTTPURL(_ text: String) -> Bool {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = url.host else { return false }
        return !host.isEmpty
    }

    public static func isLoopback(_ url: String) -> Bool {
        guard let host = URLComponents(string: url)?.host?.lowercased() else { return false }
        return host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]" || host == "0.0.0.0"
    }

    public static func trackingProblem(trackingURL: String, rayAddress: String) -> Problem? {
        guard isLoopback(trackingURL), !isLoopback(rayAddress) else { return nil }
        return Problem(message: "the tracking URL \(trackingURL) is a loopback address, which the Ray cluster at \(rayAddress) cannot reach",
                       hint: "give an address the cluster's nodes reach: `mlops run --tracking-url http://THIS-HOST:PORT` (an `mlops server` listening there) or `tracking_url:` under the Ray settings")
    }
}

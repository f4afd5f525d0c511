import Yams

/// Where events are sent: `notify:` at the top of jobs.yaml (every job and every rollout) and in a
/// job (that job's runs and the rollouts its deploys start).
public struct NotifyTarget: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A JSON POST.
        case webhook(String)
        /// A command run with `sh -c`, the event's JSON on its stdin and in `MLOPS_EVENT_JSON`.
        case command(String)
    }

    public var kind: Kind
    /// The events it wants; nil for all.
    public var events: Set<String>?
    /// Attempts before the delivery is given up.
    public var attempts: Int = 5
    public var timeout: SpecDuration = .seconds(5)

    public var name: String {
        switch kind {
        case let .webhook(url): return "webhook \(url)"
        case let .command(command): return "command \(command)"
        }
    }

    public func wants(_ event: String) -> Bool { events?.contains(event) ?? true }
}


enum NotifySpecParser {
    static let keys = ["webhook", "command", "events", "attempts", "timeout"]

    static func parse(_ node: Node, path: String, reader: inout SpecReader) -> [NotifyTarget] {
        guard case let .sequence(items) = node else {
            reader.error(node, path, "expected a list of targets, found \(SpecReader.describe(node))",
                         hint: "e.g. [ { webhook: \"https://hooks.example/mlops\", events: [run_failed, rollout_rolled_back] } ]")
            return []
        }
        var targets: [NotifyTarget] = []
        for (i, item) in items.enumerated() {
            let itemPath = "\(path)[\(i)]"
            guard let entries = reader.mapping(item, itemPath, allowed: keys, what: "a target: `webhook: URL` or `command: TEXT`") else { continue }
            var kind: NotifyTarget.Kind?
            var target = NotifyTarget(kind: .command(""))
            for (key, _, value) in entries {
                let fieldPath = "\(itemPath).\(key)"
                switch key {
                case "webhook":
                    guard let url = reader.string(value, fieldPath) else { continue }
                    if !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                        reader.error(value, fieldPath, "'\(url)' is not an http(s) URL")
                    }
                    kind = .webhook(url)
                case "command":
                    if let command = reader.string(value, fieldPath) { kind = .command(command) }
                case "events":
                    guard let names = reader.stringList(value, fieldPath) else { continue }
                    let known = NotifyEvent.allCases.map(\.rawValue)
                    for (name, node) in names where !known.contains(name) {
                        reader.error(node, fieldPath, "unknown event '\(name)'",
                                     hint: Suggestion.hint(for: name, in: known) ?? "events: \(known.joined(separator: ", "))")
                    }
                    target.events = Set(names.map(\.0))
                case "attempts": target.attempts = reader.int(value, fieldPath, min: 1, max: 20) ?? target.attempts
                default: target.timeout = reader.duration(value, fieldPath) ?? target.timeout
                }
            }
            if entries.contains(where: { $0.key == "webhook" }) && entries.contains(where: { $0.key == "command" }) {
                reader.error(item, itemPath, "a target is a webhook or a command, not both", hint: "make them two list items")
            }
            guard let kind else {
                if !entries.contains(where: { $0.key == "webhook" || $0.key == "command" }) {
                    reader.error(item, itemPath, "a target needs `webhook: URL` or `command: TEXT`")
                }
                continue
            }
            target.kind = kind
            targets.append(target)
        }
        return targets
    }
}

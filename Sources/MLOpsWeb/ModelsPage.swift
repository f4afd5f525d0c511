import Foundation
import MLOpsCore

/// `/models`: every registered model with its aliases inline; `/models/NAME`: its versions, each
/// with its aliases, status, checksum, the run that trained it and the gate that let it through
/// (the gate's rules and their results), and the history of its aliases with who moved them and why.
struct ModelsPage {
    let view: WebView

    var registry: ModelRegistry { ModelRegistry(store: view.store, directory: view.workspace.registryDirectory) }

    func render() throws -> String {
        let models = try registry.models()
        var context: [String: Any] = ["title": "Models", "base": view.base, "nav": view.nav("Models")]
        context["models"] = models.map { model in
            ["name": model.name, "path": Self.pathComponent(model.name), "versions": model.versions, "latest": model.latestVersion.map(String.init) ?? "",
             "updated": Formatting.timestamp(millis: model.lastUpdated),
             "aliases": model.aliases.sorted { $0.key < $1.key }.map { ["alias": $0.key, "version": $0.value] }] as [String: Any]
        }
        return view.templates.render("models", context)
    }

    func render(model name: String) throws -> String {
        let versions = try registry.versions(name)
        guard !versions.isEmpty else { throw PageNotFound(message: "No registered model \(name)") }
        let aliases = try registry.aliases(name)
        let spec = try? SpecParser.load(path: view.workspace.specPath)
        var context: [String: Any] = ["title": name, "base": view.base, "nav": view.nav("Models"), "name": name]
        context["versions"] = try versions.sorted { $0.version > $1.version }.map { version in
            var row: [String: Any] = ["version": version.version, "status": version.status.rawValue,
                                      "created": Formatting.timestamp(millis: version.creationTime), "files": version.files.count]
            row["aliases"] = aliases.filter { $0.value == version.version }.map(\.key).sorted()
            row["sha256"] = version.sha256 ?? ""
            row["sha256Short"] = String((version.sha256 ?? "").prefix(12))
            if let run = version.sourceRunID {
                row["run"] = run
                row["runShort"] = String(run.prefix(8))
                if let gate = try gate(of: run, spec: spec) { row["gate"] = gate }
            }
            return row
        }
        let history = try registry.aliasHistory(name)
        context["hasHistory"] = !history.isEmpty
        context["history"] = history.reversed().map { item in
            ["time": Formatting.timestamp(millis: item.entry.time), "alias": item.alias, "from": item.entry.from_state ?? "",
             "to": item.entry.to_state ?? "removed", "actor": item.entry.actor, "detail": item.entry.detail ?? ""] as [String: Any]
        }
        return view.templates.render("model", context)
    }

    /// The gate that let the version through: the `gate` stage of the job run whose stage trained it,
    /// with its rules' results (its `rule_N` params).
    func gate(of trainingRun: String, spec: JobsFile?) throws -> [String: Any]? {
        let tracker = Tracker(store: view.store)
        guard let run = try tracker.run(trainingRun), let parent = run.parentRunID, let job = spec?.job(named: run.job ?? "") else { return nil }
        let gates = Set(job.stages.filter { $0.action == .builtin("gate") }.map(\.name))
        guard let gate = try tracker.children(of: parent).last(where: { gates.contains($0.stage ?? "") }) else { return nil }
        let rules = try tracker.params(of: gate.id).filter { $0.key.hasPrefix("rule_") }.sorted { $0.key < $1.key }.map(\.value)
        return ["id": gate.id, "outcome": gate.outcome?.rawValue ?? gate.status.rawValue, "rules": rules]
    }

    static func pathComponent(_ name: String) -> String {
        name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? name
    }
}

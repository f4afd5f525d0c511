import ArgumentParser
import Foundation
import MLOpsCore

struct ModelsShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "A model card: metrics, schema, source run, aliases, history.")

    @Argument(help: "NAME, NAME@ALIAS or NAME/VERSION (a bare name shows its champion, else its latest version).")
    var reference: String

    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        try await reportingRegistryErrors {
            let registry = try options.openRegistry()
            let tracker = Tracker(store: registry.store)
            let version = try registry.resolve(ModelRegistry.Reference(parsing: reference))
            var integrity = "ok"
            do { try registry.verify(version) } catch { integrity = "\(error)" }
            let aliases = try registry.aliases(version.name).filter { $0.value == version.version }.keys.sorted()
            // The job run that produced the version carries every stage's metrics (evaluation included).
            let source = try version.sourceRunID.flatMap { try tracker.run($0) }
            let metricsRun = try source?.parentRunID.flatMap { try tracker.run($0) } ?? source
            let metrics = try metricsRun.map { try tracker.latestMetrics(of: $0.id) } ?? []
            let params = try source.map { try tracker.params(of: $0.id) } ?? [:]
            var schema: [String] = []
            if let text = try? String(contentsOfFile: "\(version.storageLocation)/model.json", encoding: .utf8),
               let object = try? JSONBody.parse(text) as? [String: Any] {
                schema = object["featureNames"] as? [String] ?? []
            }
            let history = try registry.aliasHistory(version.name)
            if json {
                printJSON([
                    "name": version.name, "version": version.version, "status": version.status.rawValue,
                    "source_run_id": version.sourceRunID as Any, "storage_location": version.storageLocation,
                    "sha256": version.sha256 as Any, "integrity": integrity, "aliases": aliases,
                    "files": version.files.map { ["path": $0.path, "sha256": $0.sha256, "size": $0.size] },
                    "metrics": Dictionary(metrics.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }),
                    "params": params, "features": schema,
                    "alias_history": history.map { ["alias": $0.alias, "from": $0.entry.from_state as Any, "to": $0.entry.to_state as Any,
                                                     "time": $0.entry.time, "actor": $0.entry.actor, "reason": $0.entry.detail as Any] },
                ] as [String: Any])
                return
            }
            let c = Console.shared
            c.write("\(c.paint("\(version.name) version \(version.version)", .bold))  \(version.status.rawValue)\(aliases.isEmpty ? "" : "  (\(aliases.joined(separator: ", ")))")\n")
            c.write("registered \(Formatting.timestamp(millis: version.creationTime)) · source run \(version.sourceRunID.map { String($0.prefix(8)) } ?? "-") · sha256 \(version.sha256?.prefix(12) ?? "-")\n")
            c.write("files: \(version.storageLocation) (\(TextEscaping.terminal(version.files.map(\.path).joined(separator: ", "))))\n")
            c.write("integrity: \(integrity == "ok" ? c.paint("ok", .green) : c.paint(integrity, .red))\n")
            if !metrics.isEmpty { c.write("\(c.paint("metrics", .bold)) (run \(metricsRun?.shortID ?? "-")): \(Formatting.metricPairs(metrics))\n") }
            if !params.isEmpty { c.write("\(c.paint("params", .bold)): \(Formatting.pairs(params))\n") }
            if !schema.isEmpty { c.write("\(c.paint("features", .bold)) (\(schema.count)): \(TextEscaping.terminal(schema.joined(separator: ", ")))\n") }
            if !history.isEmpty {
                c.write("\n")
                var table = TextTable([.init("WHEN"), .init("ALIAS"), .init("FROM", .right), .init("TO", .right), .init("BY"), .init("WHY")])
                for (alias, entry) in history {
                    table.append([.init(Formatting.timestamp(millis: entry.time)), .init(alias), .init(entry.from_state ?? "-"),
                                  .init(entry.to_state ?? "-"), .init(entry.actor), .init(entry.detail ?? "")])
                }
                c.write(table.render { c.paint($0, $1) })
            }
        }
    }
}

import ArgumentParser
import Foundation
import MLOpsCore

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "The model registry: versions, aliases, model cards.",
        subcommands: [ModelsListCommand.self, ModelsShowCommand.self, ModelsAliasCommand.self, ModelsRegisterCommand.self],
        defaultSubcommand: ModelsListCommand.self)
}

extension WorkspaceOptions {
    func openRegistry() throws -> ModelRegistry {
        ModelRegistry(store: try openStore(), directory: resolved.registryDirectory)
    }
}

/// Registry errors end a command like any invalid input.
func reportingRegistryErrors<T>(_ body: () async throws -> T) async throws -> T {
    try await reportingErrors {
        do { return try await body() } catch let error as ModelRegistry.RegistryError { throw CLIError.invalidInput(error.description) }
    }
}

struct ModelsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List registered models.")

    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        try await reportingRegistryErrors {
            let models = try options.openRegistry().models()
            if json {
                printJSON(models.map { ["name": $0.name, "latest_version": $0.latestVersion as Any, "versions": $0.versions,
                                        "aliases": $0.aliases, "last_updated_time": $0.lastUpdated] as [String: Any] })
                return
            }
            if models.isEmpty {
                Console.shared.write("no registered models yet: a deploy stage or `mlops models register RUN_ID --name NAME` makes one\n")
                return
            }
            var table = TextTable([.init("MODEL"), .init("LATEST", .right), .init("VERSIONS", .right), .init("ALIASES"), .init("UPDATED")])
            for m in models {
                table.append([.init(m.name), .init(m.latestVersion.map(String.init) ?? "-"), .init(String(m.versions)),
                              .init(m.aliases.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")),
                              .init(Formatting.timestamp(millis: m.lastUpdated))])
            }
            Console.shared.write(table.render { Console.shared.paint($0, $1) })
        }
    }
}

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
            if let data = FileManager.default.contents(atPath: "\(version.storageLocation)/model.json"),
               let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
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
            c.write("files: \(version.storageLocation) (\(version.files.map(\.path).joined(separator: ", ")))\n")
            c.write("integrity: \(integrity == "ok" ? c.paint("ok", .green) : c.paint(integrity, .red))\n")
            if !metrics.isEmpty { c.write("\(c.paint("metrics", .bold)) (run \(metricsRun?.shortID ?? "-")): \(metrics.map { "\($0.key)=\(Formatting.number($0.value))" }.joined(separator: " "))\n") }
            if !params.isEmpty { c.write("\(c.paint("params", .bold)): \(params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))\n") }
            if !schema.isEmpty { c.write("\(c.paint("features", .bold)) (\(schema.count)): \(schema.joined(separator: ", "))\n") }
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

struct ModelsAliasCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "alias", abstract: "Point an alias at a version.")

    @Argument var name: String
    @Argument var alias: String
    @Argument var version: Int
    @Option(help: "Why, recorded in the audit log.") var reason = "set by hand"
    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        try await reportingRegistryErrors {
            let previous = try options.openRegistry().setAlias(name, alias, to: version, reason: reason)
            Console.shared.write("\(name)@\(alias): \(previous.map { "\($0) → " } ?? "")\(version)\n")
        }
    }
}

struct ModelsRegisterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register", abstract: "Register a run's model as the next version (a job run: its stage that wrote model.json).")

    @Argument(help: "A run id or prefix.") var run: String
    @Option(help: "The registered model's name.") var name: String
    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        try await reportingRegistryErrors {
            let registry = try options.openRegistry()
            let tracker = Tracker(store: registry.store)
            let found = try tracker.resolve(run)
            let candidates = found.kind == .job ? try tracker.children(of: found.id).reversed() : [found]
            guard let source = candidates.first(where: { r in
                r.artifactURI.map { FileManager.default.fileExists(atPath: "\($0)/model.json") } ?? false
            }), let folder = source.artifactURI else {
                throw CLIError.invalidInput("run \(found.shortID) has no model.json in its artifacts")
            }
            let version = try registry.register(name: name, from: folder, runID: source.id)
            Console.shared.write("registered \(version.reference) from run \(source.shortID) (sha256 \(version.sha256?.prefix(12) ?? "-"))\n")
        }
    }
}

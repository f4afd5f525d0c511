import ArgumentParser
import Foundation
import MLOpsCore

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

import ArgumentParser
import Foundation
import MLOpsCore

struct ModelsAliasCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "alias", abstract: "Point an alias at a version.")

    @Argument var name: String
    @Argument var alias: String
    @Argument var version: Int
    @Option(help: "Why, recorded in the audit log.") var reason = "set by hand"
    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        try await reportingRegistryErrors {
            let previous = try options.openRegistry().setAlias(name, ModelAlias(rawValue: alias), to: version, reason: reason)
            Console.shared.write("\(name)@\(alias): \(previous.map { "\($0) → " } ?? "")\(version)\n")
        }
    }
}

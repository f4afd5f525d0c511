import ArgumentParser
import Foundation
import MLOpsCore

struct ModelsUnaliasCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unalias", abstract: "Remove an alias from a model.")

    @Argument var name: String
    @Argument var alias: String
    @Option(help: "Why, recorded in the audit log.") var reason = "removed by hand"
    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        try await reportingRegistryErrors {
            guard let previous = try options.openRegistry().removeAlias(name, ModelAlias(rawValue: alias), reason: reason) else {
                throw CLIError.invalidInput("model \(name) has no alias '\(alias)'")
            }
            Console.shared.write("\(name)@\(alias): \(previous) → (none)\n")
        }
    }
}

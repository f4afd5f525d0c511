import ArgumentParser
import Foundation
import MLOpsCore

struct ModelsDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a version (NAME/VERSION) or a whole model (NAME), with its files; refused while served or in a rollout.")

    @Argument(help: "NAME/VERSION, or NAME for the model and every version.") var reference: String
    @Option(help: "Why, recorded in the audit log.") var reason = "deleted by hand"
    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        try await reportingRegistryErrors {
            let registry = try options.openRegistry()
            let target = try ModelRegistry.Reference(parsing: reference)
            guard target.alias == nil else {
                throw CLIError.invalidInput("'\(reference)': name a version (\(target.name)/3) or the model (\(target.name)), not an alias")
            }
            if let version = target.version {
                try registry.deleteVersion(target.name, version, reason: reason)
                Console.shared.write("deleted \(target.name)/\(version)\n")
            } else {
                try registry.deleteModel(target.name, reason: reason)
                Console.shared.write("deleted model \(target.name)\n")
            }
        }
    }
}

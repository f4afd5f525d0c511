import ArgumentParser
import Foundation
import MLOpsCore

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "The model registry: versions, aliases, model cards.",
        subcommands: [ModelsListCommand.self, ModelsShowCommand.self, ModelsAliasCommand.self, ModelsUnaliasCommand.self, ModelsRegisterCommand.self, ModelsDeleteCommand.self],
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

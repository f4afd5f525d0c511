import ArgumentParser
import Foundation
import MLOpsCore

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

import ArgumentParser
import MLOpsCore

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a spec and report every problem with its file:line:column.")

    @Argument(help: "The spec to check (default: the workspace's jobs.yaml).")
    var path: String?

    @OptionGroup var options: WorkspaceOptions

    func run() throws {
        let specPath = path ?? options.resolved.specPath
        do {
            let spec = try SpecParser.load(path: specPath)
            let stages = spec.jobs.reduce(0) { $0 + $1.stages.count }
            Console.shared.write("\(specPath): ok: \(spec.jobs.count) job\(spec.jobs.count == 1 ? "" : "s"), \(stages) stage\(stages == 1 ? "" : "s"), \(spec.monitors.count) monitor\(spec.monitors.count == 1 ? "" : "s")\n")
        } catch {
            Console.shared.write(error.description + "\n", to: .stderr)
            throw ExitCode(CLIError.invalidInputCode)
        }
    }
}

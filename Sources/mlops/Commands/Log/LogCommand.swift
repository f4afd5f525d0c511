import ArgumentParser
import Foundation
import MLOpsCore

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Report into a run from inside a stage (the run named by MLOPS_RUN_ID, or --run).",
        subcommands: [LogMetricCommand.self, LogParamCommand.self, LogTagCommand.self, LogArtifactCommand.self, LogBatchCommand.self])
}

/// The run a `mlops log` call writes into.
struct TargetRunOptions: ParsableArguments {
    @Option(help: "The run (default: MLOPS_RUN_ID, set in every stage).")
    var run: String?

    @OptionGroup var workspace: WorkspaceOptions

    func resolve() throws -> (Tracker, RunRecord) {
        guard let id = run ?? ProcessInfo.processInfo.environment["MLOPS_RUN_ID"] else {
            throw CLIError.invalidInput("no run to log into: run this inside a stage (MLOPS_RUN_ID is set there) or pass --run RUN_ID")
        }
        let tracker = Tracker(store: try workspace.openStore())
        return (tracker, try tracker.resolve(id))
    }
}

struct LogMetricCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "metric", abstract: "Log a metric value.")

    @Argument var name: String
    @Argument var value: String
    @Option(help: "The step (default 0).") var step: Int64 = 0
    @OptionGroup var target: TargetRunOptions

    func run() async throws {
        try await reportingErrors {
            guard let number = Double(value) ?? (value.lowercased() == "nan" ? .nan : nil) else {
                throw CLIError.invalidInput("metric '\(name)': '\(value)' is not a number")
            }
            let (tracker, run) = try target.resolve()
            try tracker.logMetrics(run.id, [MetricPoint(key: name, value: number, step: step)])
        }
    }
}

struct LogParamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "param", abstract: "Log a param (write-once).")

    @Argument var name: String
    @Argument var value: String
    @OptionGroup var target: TargetRunOptions

    func run() async throws {
        try await reportingErrors {
            let (tracker, run) = try target.resolve()
            try tracker.logParams(run.id, [name: value])
        }
    }
}

struct LogTagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tag", abstract: "Set a tag.")

    @Argument var name: String
    @Argument var value: String
    @OptionGroup var target: TargetRunOptions

    func run() async throws {
        try await reportingErrors {
            let (tracker, run) = try target.resolve()
            try tracker.setTags(run.id, [name: value])
        }
    }
}

struct LogArtifactCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "artifact", abstract: "Copy a file or folder into the run's artifacts.")

    @Argument var path: String
    @Option(help: "A sub-folder of the artifacts to put it in.") var into: String?
    @OptionGroup var target: TargetRunOptions

    func run() async throws {
        try await reportingErrors {
            let (_, run) = try target.resolve()
            guard let artifacts = run.artifactURI else { throw CLIError.invalidInput("run \(run.shortID) has no artifact folder") }
            let manager = FileManager.default
            guard manager.fileExists(atPath: path) else { throw CLIError.invalidInput("no file at \(path)") }
            if let into, into.hasPrefix("/") {
                throw CLIError.invalidInput("--into must be a folder inside the run's artifacts, got the absolute path '\(into)'")
            }
            let folder: String
            do {
                folder = try ConfinedPath.resolve(into ?? "", under: artifacts)
            } catch let refusal as ConfinedPath.Refusal {
                throw CLIError.invalidInput("--into must be a folder inside the run's artifacts: \(refusal.description)")
            }
            try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let destination = "\(folder)/\((path as NSString).lastPathComponent)"
            // Copy beside, then rename into place: a reader never sees half a file.
            let temporary = "\(folder)/.\((path as NSString).lastPathComponent).\(getpid()).tmp"
            try? manager.removeItem(atPath: temporary)
            try manager.copyItem(atPath: path, toPath: temporary)
            if manager.fileExists(atPath: destination) { try manager.removeItem(atPath: destination) }
            try manager.moveItem(atPath: temporary, toPath: destination)
        }
    }
}

struct LogBatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Log many metric points from a CSV file (key,value[,step[,timestamp_ms]]), in one transaction.")

    @Argument(help: "The CSV file, or - for standard input.") var path: String
    @OptionGroup var target: TargetRunOptions

    func run() async throws {
        try await reportingErrors {
            let points = try MetricCSV.parse(try readInput(path), source: path)
            let (tracker, run) = try target.resolve()
            try tracker.logMetrics(run.id, points)
        }
    }
}

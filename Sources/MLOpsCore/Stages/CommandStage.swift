import Foundation

/// A `run:` stage: a subprocess, without a shell unless asked for, that learns who it is from its
/// environment (MLOPS_* and MLflow's variables) and finds this very `mlops` first on its PATH.
struct CommandStage: Stage {
    var command: String
    var shell: Bool

    /// The folder of the running `mlops`, put first on a stage's PATH so `mlops log` is this one.
    static let executableFolder: String? = {
        guard let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        return (path as NSString).deletingLastPathComponent
    }()

    func run(_ context: StageContext, started: @Sendable (AttemptHandle) -> Void) async -> StageTermination {
        let environment = Self.environment(for: context)
        let substituted = ParamReference.substitute(command, params: context.params)
        let arguments: [String]
        if shell {
            arguments = ["/bin/sh", "-c", substituted]
        } else {
            guard let words = CommandLineWords.split(substituted), !words.isEmpty else {
                return .failed("cannot split `run: \(substituted)` into words", exitCode: nil)
            }
            arguments = words
        }
        // A remote executor finds the program on its own machine.
        let local = context.placement == .local
        guard let executable = local ? Self.locate(arguments[0], path: environment["PATH"] ?? "", cwd: context.workspace.root) : arguments[0] else {
            return .failed("command not found: '\(arguments[0])' (searched PATH and the workspace)", exitCode: 127)
        }
        let command = StageCommand(
            executable: executable, arguments: arguments, environment: environment, variables: Self.variables(for: context),
            workingDirectory: context.workspace.root, stdoutLog: context.stdoutLog, stderrLog: context.stderrLog,
            timeout: context.timeout, killGrace: context.killGrace, echo: context.echo, runID: context.runID,
            placement: context.placement,
            submissionID: RayJobHandle.submissionID(jobRunID: context.parentRunID, stage: context.stage, attempt: context.attempt,
                                                    shard: context.shard?.index),
            labels: Self.labels(for: context))
        return await context.executor.run(command, started: started)
    }

    /// This process's environment with our folder first on PATH, read once: every stage starts from it.
    static let baseEnvironment: [String: String] = {
        var env = ProcessInfo.processInfo.environment
        let path = env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        env["PATH"] = executableFolder.map { "\($0):\(path)" } ?? path
        return env
    }()

    static func environment(for context: StageContext) -> [String: String] {
        baseEnvironment.merging(variables(for: context)) { _, own in own }
    }

    /// What names a remote job after its run.
    static func labels(for context: StageContext) -> [String: String] {
        var labels = ["mlops_run_id": context.runID, "mlops_job_run_id": context.parentRunID, "mlops_job": context.job,
                      "mlops_stage": context.stage, "mlops_attempt": String(context.attempt)]
        if let shard = context.shard { labels["mlops_shard"] = "\(shard.index)/\(shard.count)" }
        return labels
    }

    /// The stage's own variables, without this process's environment.
    static func variables(for context: StageContext) -> [String: String] {
        var env: [String: String] = [:]
        env["MLOPS_RUN_ID"] = context.runID
        env["MLOPS_PARENT_RUN_ID"] = context.parentRunID
        env["MLOPS_JOB"] = context.job
        env["MLOPS_STAGE"] = context.stage
        env["MLOPS_ATTEMPT"] = String(context.attempt)
        env["MLOPS_ARTIFACTS"] = context.artifactsDirectory
        env["MLOPS_WORKSPACE"] = context.workspace.root
        env["MLOPS_TRACKING"] = context.workspace.storePath
        env["MLFLOW_RUN_ID"] = context.runID
        if context.store.clock.offsetMillis != 0 { env[WallClock.environmentKey] = String(context.store.clock.offsetMillis) }
        env["MLFLOW_EXPERIMENT_ID"] = String(context.experimentID)
        // The client's own store would not know this run: point it at ours, or at nothing.
        if let uri = context.trackingURI { env["MLFLOW_TRACKING_URI"] = uri }
        for (name, value) in context.params { env["MLOPS_PARAM_\(envName(name))"] = value.description }
        for (name, value) in context.with { env["MLOPS_WITH_\(envName(name))"] = value.description }
        for input in context.inputs { env["MLOPS_INPUT_\(envName(input.stage))"] = input.artifacts }
        if let shard = context.shard {
            env["MLOPS_SHARD_INDEX"] = String(shard.index)
            env["MLOPS_SHARD_COUNT"] = String(shard.count)
        }
        for (name, value) in context.env { env[name] = ParamReference.substitute(value, params: context.params) }
        return env
    }

    /// `train-model` → `TRAIN_MODEL`.
    static func envName(_ name: String) -> String {
        String(name.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    static func locate(_ name: String, path: String, cwd: String) -> String? {
        let manager = FileManager.default
        if name.contains("/") {
            let full = name.hasPrefix("/") ? name : "\(cwd)/\(name)"
            return manager.isExecutableFile(atPath: full) ? full : nil
        }
        for folder in path.split(separator: ":") {
            let candidate = "\(folder.isEmpty ? "." : folder)/\(name)"
            if manager.isExecutableFile(atPath: candidate), !directory(candidate) { return candidate }
        }
        return nil
    }

    static func directory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}

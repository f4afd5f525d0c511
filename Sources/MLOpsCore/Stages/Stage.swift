import Foundation

/// One unit of work in a job: a built-in stage (in process) or a command (a child process). The
/// runner treats both alike: records, retries, timeouts and cancellation are its business.
public protocol Stage: Sendable {
    /// Runs one attempt. `started` reports the attempt's handle (its process, or its id on another
    /// executor) as soon as there is one, so that a later process can tell a live attempt from a dead one.
    func run(_ context: StageContext, started: @Sendable (AttemptHandle) -> Void) async -> StageTermination
}

/// How an attempt ended.
public enum StageTermination: Sendable, Hashable {
    case succeeded
    case failed(String, exitCode: Int32?)
    case timedOut(SpecDuration)
    case killed(String)

    public var outcome: RunOutcome {
        switch self {
        case .succeeded: return .succeeded
        case .failed: return .failed
        case .timedOut: return .timedOut
        case .killed: return .killed
        }
    }

    public var message: String? {
        switch self {
        case .succeeded: return nil
        case let .failed(message, _): return message
        case let .timedOut(limit): return "timed out after \(limit)"
        case let .killed(message): return message
        }
    }

    public var exitCode: Int32? {
        if case let .failed(_, code) = self { return code }
        return self == .succeeded ? 0 : nil
    }
}

/// An upstream stage's artifact folder, as a stage receives it.
public struct StageInput: Sendable, Hashable {
    public var stage: String
    public var artifacts: String
    /// The stage run that produced them.
    public var runID: String?
}

extension StageContext {
    /// The first upstream artifact file named `name`, nearest first.
    public func inputFile(_ name: String) -> String? {
        input(with: name).map { "\($0.artifacts)/\(name)" }
    }

    /// The nearest upstream stage whose artifacts hold `name`.
    public func input(with name: String) -> StageInput? {
        inputs.first { FileManager.default.fileExists(atPath: "\($0.artifacts)/\(name)") }
    }
}

/// Everything an attempt knows about itself: identity, folders, settings and its inputs.
public struct StageContext: Sendable {
    public var job: String
    public var stage: String
    public var attempt: Int
    public var runID: String
    public var parentRunID: String
    public var experimentID: Int64
    public var workspace: Workspace
    /// The store the run is recorded in, for stages that read or write beyond their own run.
    public var store: Store
    public var runDirectory: String
    public var artifactsDirectory: String
    public var stdoutLog: String
    public var stderrLog: String
    /// The stage's `with:`, params substituted.
    public var with: [String: SpecValue]
    public var params: [String: SpecValue]
    /// The artifact folders of the stages this one depends on, directly or not: the direct needs
    /// first, then the other ancestors.
    public var inputs: [StageInput]
    public var timeout: SpecDuration?
    public var killGrace: SpecDuration
    public var env: [String: String]
    /// Where whole lines of output go besides the log files (the terminal), or nil.
    public var echo: (@Sendable (Console.Stream, Substring) -> Void)?
    /// The MLflow-compatible endpoint of this workspace, given to command stages as
    /// `MLFLOW_TRACKING_URI`, so `mlflow.start_run()` in a script continues the stage's run.
    public var trackingURI: String? = nil
    /// Where a command stage's attempt runs, and with what settings.
    public var executor: any StageExecutor = LocalProcessExecutor()
    public var placement: ExecutorSpec = .local
    /// This copy's place among a sharded stage's copies (`shards:`), or nil.
    public var shard: StageShard?
}

/// One copy of a stage that runs as `shards: N` copies side by side.
public struct StageShard: Sendable, Hashable {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }
}

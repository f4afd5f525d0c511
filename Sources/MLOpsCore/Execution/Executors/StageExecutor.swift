import Foundation

/// Where a command stage's attempt runs: a local process group, or a job on a Ray cluster; a
/// Kubernetes Job would be a third. The runner owns records, retries and deadlines; an executor
/// starts one attempt, reports its handle the moment it has one (before it asks anything of a
/// remote system), and answers for that handle later, from any process: what became of it, follow
/// it to its end, stop it. That is all crash recovery needs to know of it.
public protocol StageExecutor: Sendable {
    /// The name `executor:` uses and the store records with a remote attempt's handle.
    var name: String { get }

    /// Runs one attempt of `command` to its end (or its deadline, or cancellation). `started` gets
    /// the attempt's handle before the attempt is asked for, and again whenever it changes.
    func run(_ command: StageCommand, started: @Sendable (AttemptHandle) -> Void) async -> StageTermination

    /// What became of an attempt whose runner is gone.
    func probe(_ handle: AttemptHandle) async -> AttemptProbe

    /// Follows an attempt another runner started to its end, its log continuing where that one
    /// stopped; nil when this executor cannot (a local process's output went to its dead runner).
    func reattach(_ handle: AttemptHandle, _ command: StageCommand, updated: @Sendable (AttemptHandle) -> Void) async -> StageTermination?

    /// Stops the attempt and everything it started.
    func stop(_ handle: AttemptHandle) async
}

/// An attempt's state, asked after its runner died.
public enum AttemptProbe: Sendable, Equatable {
    /// It still runs (or waits to), and can be followed or stopped.
    case alive
    /// It ended on its own, thus.
    case ended(StageTermination)
    /// Its executor no longer knows it (a process that is gone, a head that restarted).
    case lost(String)
    /// This process cannot tell (a process on another host, a head it cannot reach).
    case unknown
}

/// One attempt of a command stage, as an executor receives it: what to run, where, with what, and
/// where its output goes.
public struct StageCommand: Sendable {
    /// argv; `arguments[0]` resolved to `executable` (for a local process).
    public var executable: String
    public var arguments: [String]
    /// The whole environment of a local process: this process's, with the stage's variables.
    public var environment: [String: String]
    /// The stage's own variables only (MLOPS_*, MLFLOW_*, its params and `env:`): what a job on
    /// another machine gets.
    public var variables: [String: String]
    public var workingDirectory: String
    public var stdoutLog: String
    public var stderrLog: String
    public var timeout: SpecDuration?
    public var killGrace: SpecDuration
    /// Whole lines of output for the terminal, or nil.
    public var echo: (@Sendable (Console.Stream, Substring) -> Void)?
    /// The attempt's run id.
    public var runID: String
    /// The executor's settings for this stage.
    public var placement: ExecutorSpec = .local
    /// A remote job's id: made of the job run, the stage and the attempt, so a retry never reuses one.
    public var submissionID: String
    /// What names the run on a remote system (a Ray job's metadata).
    public var labels: [String: String] = [:]

    /// The command as one line for a shell (Ray runs its entrypoint in one).
    public var shellCommand: String {
        if arguments.count == 3, arguments[0] == "/bin/sh", arguments[1] == "-c" { return arguments[2] }
        return arguments.map(CommandLineWords.shellQuoted).joined(separator: " ")
    }
}

/// The executors this process knows, by name.
public struct ExecutorCatalog: Sendable {
    public private(set) var executors: [String: any StageExecutor]

    public init(_ executors: [any StageExecutor] = [LocalProcessExecutor(), RayExecutor()]) {
        self.executors = Dictionary(executors.map { ($0.name, $0) }, uniquingKeysWith: { _, b in b })
    }

    public subscript(name: String) -> (any StageExecutor)? { executors[name] }

    /// The executor that owns `handle`'s attempt, if this process knows it.
    public func owner(of handle: AttemptHandle) -> (any StageExecutor)? { executors[handle.executor] }

    public static let standard = ExecutorCatalog()
}

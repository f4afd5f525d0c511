import Foundation

/// Where a command stage's attempt runs: a local process group today, a Ray cluster next. The
/// runner owns records, retries and deadlines; an executor starts one attempt, reports its handle
/// the moment it has one, and answers for that handle later, from any process: is it alive, and
/// stop it. That is all orphan recovery needs to know of it.
public protocol StageExecutor: Sendable {
    /// The name `executor:` uses and the store records with a remote attempt's handle.
    var name: String { get }

    /// Runs one attempt of `command` to its end (or its deadline, or cancellation).
    func run(_ command: StageCommand, started: @Sendable (AttemptHandle) -> Void) async -> StageTermination

    /// Whether the attempt is alive: nil when this process cannot tell (a process on another host).
    func isAlive(_ handle: AttemptHandle) -> Bool?

    /// Stops the attempt and everything it started, at once.
    func stop(_ handle: AttemptHandle)
}

/// One attempt of a command stage, as an executor receives it: what to run, where, with what, and
/// where its output goes.
public struct StageCommand: Sendable {
    /// argv; `arguments[0]` resolved to `executable`.
    public var executable: String
    public var arguments: [String]
    public var environment: [String: String]
    public var workingDirectory: String
    public var stdoutLog: String
    public var stderrLog: String
    public var timeout: SpecDuration?
    public var killGrace: SpecDuration
    /// Whole lines of output for the terminal, or nil.
    public var echo: (@Sendable (Console.Stream, Substring) -> Void)?
    /// The attempt's run id: a remote executor names its job after it, so a retry never reuses one.
    public var runID: String
}

/// The executors this process knows, by name.
public struct ExecutorCatalog: Sendable {
    public private(set) var executors: [String: any StageExecutor]

    public init(_ executors: [any StageExecutor] = [LocalProcessExecutor()]) {
        self.executors = Dictionary(executors.map { ($0.name, $0) }, uniquingKeysWith: { _, b in b })
    }

    public subscript(name: String) -> (any StageExecutor)? { executors[name] }

    /// The executor that owns `handle`'s attempt, if this process knows it.
    public func owner(of handle: AttemptHandle) -> (any StageExecutor)? { executors[handle.executor] }

    public static let standard = ExecutorCatalog()
}

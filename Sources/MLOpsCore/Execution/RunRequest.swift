/// What `mlops run` asks for.
public struct RunRequest: Sendable {
    public var job: String
    public var params: [String: SpecValue]
    /// Recorded on the run and as the tag `mlops.trigger`.
    public var trigger: RunTrigger
    /// Run again a previous run of the same job, with its params.
    public var rerunOf: String?
    /// With `rerunOf`: reuse the stages that succeeded, run only what failed or was skipped.
    public var onlyFailed: Bool
    public var maxParallel: Int?
    /// Echo stage output to the terminal, each line prefixed with its stage.
    public var echo: Bool
    /// More tags for the job run: why a monitor started it, which schedule fire.
    public var tags: [String: String] = [:]
    /// The id the run gets, chosen by a caller that records it before the run ends (the scheduler).
    public var runID: String?

    public init(job: String, params: [String: SpecValue] = [:], trigger: RunTrigger = .manual, rerunOf: String? = nil,
                onlyFailed: Bool = false, maxParallel: Int? = nil, echo: Bool = true) {
        self.job = job
        self.params = params
        self.trigger = trigger
        self.rerunOf = rerunOf
        self.onlyFailed = onlyFailed
        self.maxParallel = maxParallel
        self.echo = echo
    }
}

/// How a job run ended, stage by stage.
public struct JobRunResult: Sendable {
    public var run: RunRecord
    public var stages: [StageResult]

    public struct StageResult: Sendable, Hashable {
        public var name: String
        public var outcome: RunOutcome
        public var message: String?
        public var runID: String?
        public var attempts: Int
    }
}

/// A request that cannot start: unknown job or param, a rerun that does not fit.
public struct RunRequestError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

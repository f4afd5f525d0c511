import Foundation

/// A parsed, validated jobs.yaml: the one document that describes a workspace's jobs and monitors.
public struct JobsFile: Sendable {
    public var path: String
    public var version: Int
    public var jobs: [JobSpec]
    public var monitors: [MonitorSpec]
    /// Workspace-wide notification targets.
    public var notify: [NotifyTarget] = []
    /// sha256 of the file's bytes, recorded on every run so a run can be traced to its spec.
    public var sha256: String

    public func job(named name: String) -> JobSpec? { jobs.first { $0.name == name } }
}

/// Whether two runs of one job may overlap.
public enum Concurrency: String, Sendable, CaseIterable {
    case forbid
    case allow
}

/// When a stage runs, given how its `needs` ended.
public enum TriggerRule: String, Sendable, CaseIterable {
    /// Every need succeeded (the default).
    case allSuccess = "all_success"
    /// Every need is finished, whatever its outcome.
    case allDone = "all_done"
    /// At least one need failed: a notify-on-failure or clean-up stage.
    case oneFailed = "one_failed"
}

public struct JobParam: Sendable, Hashable {
    public var name: String
    public var value: SpecValue
}

public struct JobSpec: Sendable {
    public var name: String
    public var description: String?
    public var schedule: CronExpression?
    public var timezone: String?
    public var concurrency: Concurrency
    public var maxParallel: Int?
    public var params: [JobParam]
    public var stages: [StageSpec]
    public var location: SourceLocation?
    /// This job's own targets, besides the workspace's.
    public var notify: [NotifyTarget] = []

    public func stage(named name: String) -> StageSpec? { stages.first { $0.name == name } }
    public var paramValues: [String: SpecValue] {
        Dictionary(params.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
    }
}

/// What a stage does: a built-in stage by name, or a command.
public enum StageAction: Sendable, Hashable {
    case builtin(String)
    /// `run:` as written; started without a shell (split into words) unless `shell` is true.
    case command(String, shell: Bool)
}

public struct StageSpec: Sendable {
    /// The wait before the attempt after `attempt`: `retry_delay` doubled each time, at most `max_retry_delay`.
    public func delay(afterAttempt attempt: Int) -> SpecDuration {
        let factor = pow(2.0, Double(attempt - 1))
        return min(SpecDuration(milliseconds: Int64(Double(retryDelay.milliseconds) * factor)), maxRetryDelay)
    }

    public var name: String
    public var action: StageAction
    public var with: [String: SpecValue]
    public var needs: [String]
    public var retries: Int
    public var retryDelay: SpecDuration
    public var maxRetryDelay: SpecDuration
    public var timeout: SpecDuration?
    /// How long a stage has between TERM and KILL.
    public var killGrace: SpecDuration
    public var triggerRule: TriggerRule
    public var env: [String: String]
    public var location: SourceLocation?
    public var needLocations: [SourceLocation?]

    public init(name: String, action: StageAction, with: [String: SpecValue] = [:], needs: [String] = [],
                retries: Int = 0, retryDelay: SpecDuration = .seconds(1), maxRetryDelay: SpecDuration = .seconds(300),
                timeout: SpecDuration? = nil, killGrace: SpecDuration = .seconds(10),
                triggerRule: TriggerRule = .allSuccess, env: [String: String] = [:], location: SourceLocation? = nil) {
        self.name = name
        self.action = action
        self.with = with
        self.needs = needs
        self.retries = retries
        self.retryDelay = retryDelay
        self.maxRetryDelay = maxRetryDelay
        self.timeout = timeout
        self.killGrace = killGrace
        self.triggerRule = triggerRule
        self.env = env
        self.location = location
        self.needLocations = needs.map { _ in nil }
    }
}

/// A watch on a deployed model's live metric; parsed now, acted on by the monitoring loop.
public struct MonitorSpec: Sendable {
    public enum Baseline: Sendable, Hashable {
        /// Re-anchored on each promotion.
        case deployment
        case value(Double)
    }

    public var name: String
    public var model: String
    public var metric: String
    public var baseline: Baseline
    public var window: SpecDuration
    public var minSamples: Int
    public var maxDrop: Double
    public var confidence: Double
    public var cooldown: SpecDuration
    /// Consecutive significant drops needed before `on_drop` fires.
    public var breachesToTrigger: Int
    public var onDropRun: String?
    public var location: SourceLocation?
    /// At most `count` retrains this monitor starts in any `period`: a cap on a retrain loop.
    public var maxRetrains: (count: Int, period: SpecDuration)? = (3, SpecDuration(milliseconds: 30 * 86_400_000))
}

import Foundation

/// A parsed, validated jobs.yaml: the one document that describes a workspace's jobs and monitors.
public struct JobsFile: Sendable {
    public var path: String
    public var version: Int
    /// The store the workspace uses (`tracking:`): a SQLite file, relative to the workspace, or a
    /// PostgreSQL URL. `--tracking` and MLOPS_TRACKING override it.
    public var tracking: String?
    public var jobs: [JobSpec]
    public var monitors: [MonitorSpec]
    /// Workspace-wide notification targets.
    public var notify: [NotifyTarget] = []
    /// sha256 of the file's bytes, recorded on every run so a run can be traced to its spec.
    public var sha256: String

    public func job(named name: String) -> JobSpec? { jobs.first { $0.name == name } }
}

/// Whether two runs of one job may overlap, and what a fire does when one is going.
public enum Concurrency: String, Sendable, CaseIterable {
    /// One run at a time; a fire while one is going is skipped (recorded, not lost silently).
    case forbid
    /// One run at a time; a fire while one is going waits its turn.
    case queue
    /// One run at a time; a fire stops the run that is going (TERM, its grace, KILL), then starts.
    case replace
    /// Runs overlap freely.
    case allow

    /// Whether a run holds the job's lease.
    public var exclusive: Bool { self != .allow }
}

/// What the scheduler does with fires it missed while no daemon was running.
public enum Catchup: String, Sendable, CaseIterable {
    /// Missed fires are recorded as missed; only a fire due now starts.
    case none
    /// The most recent missed fire starts, the older ones are recorded as missed.
    case latest
    /// Every missed fire starts, oldest first, one after another.
    case all
}

/// When a stage runs, given how its `needs` ended.
public enum TriggerRule: String, Sendable, CaseIterable {
    /// Every need succeeded (the default).
    case allSuccess = "all_success"
    /// Every need is finished, whatever its outcome.
    case allDone = "all_done"
    /// At least one direct need failed or timed out.
    case oneFailed = "one_failed"
    /// At least one stage upstream, direct or not, failed or timed out: the rule for a stage that
    /// reports a job's failure. A failed gate still lets scoring run (`none_failed`), so a stage
    /// after scoring sees the gate only through its ancestors.
    case anyFailed = "any_failed"
    /// No need failed: each succeeded or was skipped (a stage after an optional branch).
    case noneFailed = "none_failed"
}

/// When a stage is skipped on purpose: every condition given holds. The weekly job skips its
/// training on a scheduled run while the model has a champion; a manual run, a monitor's retrain
/// or a fresh workspace trains.
public struct SkipCondition: Sendable, Hashable {
    /// The run's trigger is one of these.
    public var triggers: [RunTrigger]?
    /// This alias exists, as `model@alias`.
    public var aliasExists: String?

    /// Why the stage is skipped, or nil when it runs.
    func reason(trigger: RunTrigger, store: Store) throws -> String? {
        var why: [String] = []
        if let triggers {
            guard triggers.contains(trigger) else { return nil }
            why.append("a \(trigger) run")
        }
        if let reference = aliasExists {
            let parts = reference.split(separator: "@", maxSplits: 1).map(String.init)
            guard parts.count == 2,
                  try store.read({ try RegistryRecords.version($0, parts[0], alias: ModelAlias(rawValue: parts[1])) }) != nil else { return nil }
            why.append("\(reference) exists")
        }
        return why.isEmpty ? nil : "skip_if: " + why.joined(separator: " and ")
    }
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
    public var catchup: Catchup = .latest
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
    public var skipIf: SkipCondition?
    public var env: [String: String]
    /// Where the stage's attempts run (`executor:`); built-in stages always run in the runner.
    public var executor: ExecutorSpec = .local
    /// How many copies of the stage run side by side, each told its `MLOPS_SHARD_INDEX` of
    /// `MLOPS_SHARD_COUNT`, each its own child run; the stage succeeds when every one does.
    public var shards = 1
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
        self.skipIf = nil
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
    /// Params for the retrain, over the job's own (e.g. fewer weeks of history after a drift).
    public var onDropParams: [String: SpecValue] = [:]
    public var location: SourceLocation?
    /// At most `count` retrains this monitor starts in any `period`: a cap on a retrain loop.
    public var maxRetrains: (count: Int, period: SpecDuration)? = (3, SpecDuration(milliseconds: 30 * 86_400_000))
    /// How the drop is decided: a Wilson bound on the window, or a Bernoulli CUSUM over every
    /// mature outcome since the baseline, which sees a smaller lasting drop sooner.
    public var method: Method = .wilson
    /// The CUSUM's alarm threshold h on the log-likelihood ratio: Lorden's bound puts the expected
    /// number of outcomes between false alarms at no drop above e^h (9.21: 10,000).
    public var cusumThreshold = log(10_000.0)
    /// How often the scheduler evaluates the monitor.
    public var every = SpecDuration(milliseconds: 3_600_000)
    public var drift = DriftSettings()

    public enum Method: String, Sendable, CaseIterable {
        case wilson, cusum
    }

    /// Per-feature drift of the scored batches against the champion's training reference.
    public struct DriftSettings: Sendable, Hashable {
        public var psi = 0.2
        public var alpha = 0.05
        /// The share of drifted features that makes the verdict "drifted".
        public var maxShare = 0.5
        /// Whether "drifted" starts `on_drop` on its own, without a hit-rate drop.
        public var trigger = false
    }
}

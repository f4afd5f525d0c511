import Foundation

/// One pass of the monitoring loop, as the scheduler runs it each tick: every hit-rate monitor
/// whose `every` has passed is evaluated, the evaluation is recorded as a monitor run (its figures
/// and drift as metrics, so `mlops runs --kind monitor` shows them) when it saw something new, and a
/// breach is put to the retrain policy. Starting the job is the caller's: the cycle says which.
public struct MonitorCycle: Sendable {
    public let store: Store
    public let spec: JobsFile

    public init(store: Store, spec: JobsFile) {
        self.store = store
        self.spec = spec
    }

    public struct Result: Sendable {
        public var monitor: MonitorSpec
        public var evaluation: HitRateMonitor.Evaluation
        /// Set when the evaluation asked for a retrain.
        public var decision: RetrainPolicy.Decision?
        /// The monitor run this evaluation was recorded as, if it was.
        public var runID: String?

        /// What starts the retrain when the policy allows it.
        public var retrain: RunRequest? {
            guard let decision, decision.start, let job = monitor.onDropRun else { return nil }
            var request = RunRequest(job: job, params: monitor.onDropParams, trigger: .monitor, echo: false)
            request.tags = ["mlops.trigger_reason": decision.reason, "mlops.monitor": monitor.name]
            if let runID { request.tags["mlops.monitor_run"] = runID }
            request.runID = RunRecord.newID()
            return request
        }
    }

    /// Evaluates the monitors due at `now` (all of them with `force`), or only `names`.
    public func run(now: Int64, force: Bool = false, only names: Set<String>? = nil, trigger: RunTrigger = .schedule) throws -> [Result] {
        let last = try store.read { tx in
            Dictionary(try MonitorRecords.all(tx).map { ($0.monitor, ($0.updatedTime, $0.lastEvaluationJSON)) }, uniquingKeysWith: { a, _ in a })
        }
        var results: [Result] = []
        for monitor in spec.monitors where monitor.metric == "hit_rate" && (names?.contains(monitor.name) ?? true) {
            if !force, let previous = last[monitor.name], now - previous.0 < monitor.every.milliseconds { continue }
            let previousVerdict = last[monitor.name]?.1.flatMap { try? JSONDecoder().decode(HitRateMonitor.Evaluation.self, from: Data($0.utf8)) }?.verdict
            let evaluation = try HitRateMonitor(store: store, spec: monitor).evaluate(now: now)
            var result = Result(monitor: monitor, evaluation: evaluation)
            if evaluation.newOutcomes == true || evaluation.verdict != previousVerdict || evaluation.shouldTrigger {
                result.runID = try record(evaluation, monitor: monitor, trigger: trigger, now: now)
            }
            if evaluation.shouldTrigger {
                result.decision = try RetrainPolicy.decide(monitor, evaluation, store: store, now: now)
            }
            results.append(result)
        }
        return results
    }

    /// The evaluation as a finished monitor run: its figures as metrics, its verdict and reason as tags.
    func record(_ evaluation: HitRateMonitor.Evaluation, monitor: MonitorSpec, trigger: RunTrigger, now: Int64) throws -> String {
        let tracker = Tracker(store: store)
        let experiment = try tracker.experimentID(named: "monitor:\(monitor.name)")
        var run = RunRecord(experimentID: experiment, name: monitor.name, status: .finished, startTime: now, kind: .monitor)
        run.job = monitor.name
        run.trigger = trigger
        run.endTime = now
        run.outcome = .succeeded
        run.message = evaluation.reason
        var params = ["model": monitor.model, "method": monitor.method.rawValue, "window": monitor.window.description,
                      "max_drop": String(monitor.maxDrop), "min_samples": String(monitor.minSamples)]
        if let version = evaluation.version { params["model_version"] = String(version) }
        var tags = ["mlops.monitor": monitor.name, "mlops.verdict": evaluation.verdict.rawValue, "mlflow.runName": monitor.name,
                    "mlops.should_trigger": String(evaluation.shouldTrigger)]
        if let drift = evaluation.drift { tags["mlops.drifted_features"] = drift.driftedNames.joined(separator: ",") }
        try tracker.create(run, params: params, tags: tags)
        try tracker.logMetrics(run.id, evaluation.metrics.map { MetricPoint(key: $0.key, value: $0.value, timestamp: now) })
        return run.id
    }

    /// What came of a retrain the monitor asked for: the run it started, or why none started.
    /// Only a start begins the cooldown, and a start is a claim: false when another process (a
    /// second daemon on the store) started one within `cooldown`, and this one must not.
    @discardableResult
    public static func recordTrigger(_ store: Store, monitor: String, decision: RetrainPolicy.Decision, runID: String?, now: Int64,
                                     cooldown: SpecDuration = .seconds(0)) throws -> Bool {
        try store.write { tx in
            try MonitorRecords.recordTrigger(tx, monitor: monitor, started: decision.start, reason: decision.reason, runID: runID, now: now,
                                             cooldown: cooldown.milliseconds)
        }
    }

    /// The last trigger of each monitor, for `mlops monitor`.
    public struct LastTrigger: Sendable {
        public var time: Int64?
        public var runID: String?
        public var reason: String?
        public var decision: String?
    }

    public static func lastTriggers(_ store: Store) throws -> [String: LastTrigger] {
        try store.read { tx in
            Dictionary(try MonitorRecords.all(tx).map {
                ($0.monitor, LastTrigger(time: $0.lastTriggerTime, runID: $0.lastTriggerRun, reason: $0.lastTriggerReason, decision: $0.lastDecision))
            }, uniquingKeysWith: { a, _ in a })
        }
    }
}

import Foundation

/// Runs one job's stages as a DAG: each stage starts as soon as its `needs` allow, up to
/// `max_parallel` at once; attempts are retried with exponential backoff; a failure skips what
/// depends on it while independent branches finish; every attempt is a child run in the store.
public final class JobRunner: Sendable {
    public let workspace: Workspace
    public let spec: JobsFile
    public let store: Store
    public let tracker: Tracker
    public let catalog: StageCatalog
    /// Where command stages reach MLflow's API for this workspace (see `StageContext.trackingURI`).
    public let tracking: TrackingEndpoint?
    /// `MLFLOW_TRACKING_URI` for stages on another machine (`mlops run --tracking-url`), over the
    /// Ray settings' `tracking_url`: an address the cluster reaches.
    public let remoteTrackingURL: String?
    public let executors: ExecutorCatalog
    let report: @Sendable (RunEvent) -> Void

    public init(workspace: Workspace, spec: JobsFile, store: Store, catalog: StageCatalog = .standard, tracking: TrackingEndpoint? = nil,
                remoteTrackingURL: String? = nil, executors: ExecutorCatalog = .standard,
                report: @escaping @Sendable (RunEvent) -> Void = { _ in }) {
        self.tracking = tracking
        self.remoteTrackingURL = remoteTrackingURL
        self.executors = executors
        self.workspace = workspace
        self.spec = spec
        self.store = store
        self.tracker = Tracker(store: store)
        self.catalog = catalog
        self.report = report
    }

    enum StageState: Sendable {
        case pending
        case running
        case done(Done)
    }

    struct Done: Sendable {
        var name: String
        var outcome: RunOutcome
        var message: String?
        var runID: String?
        var artifacts: String?
        var attempts: Int
    }

    /// Runs the job; throws only when it cannot start (RunRequestError, JobLease.Held, store errors).
    /// Cancelling the calling task stops every stage (TERM, then KILL) and ends the run KILLED.
    public func run(_ request: RunRequest) async throws -> JobRunResult {
        guard let job = spec.job(named: request.job) else {
            let names = spec.jobs.map(\.name)
            throw RunRequestError("no job '\(request.job)' in \(spec.path)"
                + (Suggestion.hint(for: request.job, in: names).map { "; \($0)" } ?? "; jobs: \(names.joined(separator: ", "))"))
        }
        let request = try await reapOrphans(request, job: job)
        StartupTrace.mark("orphans reaped")
        let (params, rerunOf, reusable) = try resolveParams(request, job: job)
        let parent = try await start(request, job: job, params: params, rerunOf: rerunOf)
        StartupTrace.mark("lease taken, run recorded")
        let maxParallel = max(1, request.maxParallel ?? job.maxParallel ?? ProcessInfo.processInfo.activeProcessorCount)
        report(.jobStarted(runID: parent.id, job: job.name, stages: job.stages.count, maxParallel: maxParallel))
        let work = Task {
            await schedule(job: job, parent: parent, params: params, reusable: reusable, maxParallel: maxParallel, echo: request.echo)
        }
        let fence = RunFence(store: store, job: job.name, runID: parent.id) { work.cancel() }
        defer { fence.stop() }
        let states = await withTaskCancellationHandler { await work.value } onCancel: { work.cancel() }
        if fence.fenced { report(.fenced(runID: parent.id, after: JobLease.fenceAfter)) }
        let cancelled = Task.isCancelled || fence.fenced
        let results = job.stages.compactMap { stage -> JobRunResult.StageResult? in
            guard case let .done(done)? = states[stage.name] else { return nil }
            return .init(name: done.name, outcome: done.outcome, message: done.message, runID: done.runID, attempts: done.attempts)
        }
        let failures = results.filter { $0.outcome == .failed || $0.outcome == .timedOut }
        let outcome: RunOutcome = cancelled ? .killed : failures.isEmpty ? .succeeded : .failed
        let message: String? = fence.fenced ? RunFence.message
            : cancelled ? "stopped by request"
            : failures.isEmpty ? nil
            : failures.map { "\($0.name): \($0.message ?? $0.outcome.rawValue)" }.joined(separator: "; ")
        StartupTrace.mark("stages done")
        let finished = try recordEnd(parent.id, job: job, outcome: outcome, message: message, failures: failures)
        report(.jobFinished(run: finished))
        return JobRunResult(run: finished, stages: results)
    }

    /// Settles the runs of dead runners. This job's remote attempts that still run are followed to
    /// their end first; a plain run of the job then resumes a run whose remote attempts were
    /// settled: it reruns it, reusing the stages that succeeded (the followed ones included) and
    /// running again, with their full retries, those that failed or were lost.
    func reapOrphans(_ request: RunRequest, job: JobSpec) async throws -> RunRequest {
        let width = job.stages.map(\.name.count).max() ?? 0
        @Sendable func echoing(_ stage: String) -> (@Sendable (Console.Stream, Substring) -> Void)? {
            Self.echo(prefix: Self.prefix(stage, width: width))
        }
        let echo: (@Sendable (String) -> (@Sendable (Console.Stream, Substring) -> Void)?)? = request.echo ? echoing : nil
        let reaper = OrphanReaper(store: store, executors: executors,
                                  reattach: .init(workspace: workspace, spec: spec, jobs: [job.name], echo: echo, report: report))
        let reaped = try await reaper.reap()
        var request = request
        if request.rerunOf == nil, request.params.isEmpty, let resumed = reaped.resumable.last(where: { $0.job == job.name }) {
            request.rerunOf = resumed.runID
            request.onlyFailed = true
            request.tags["mlops.resumed_from"] = resumed.runID
        }
        return request
    }

    /// The run's params (the job's defaults, a rerun's own, then the request's) and, for a rerun,
    /// the run it repeats and the stages it may reuse.
    func resolveParams(_ request: RunRequest, job: JobSpec) throws -> ([String: SpecValue], RunRecord?, [String: RunRecord]) {
        var params = job.paramValues
        var reusable: [String: RunRecord] = [:]
        var rerunOf: RunRecord?
        if let previousID = request.rerunOf {
            let previous = try resolveRerun(previousID, job: job)
            rerunOf = previous
            let old = try tracker.params(of: previous.id)
            for param in job.params { if let text = old[param.name] { params[param.name] = .parsingCommandLine(text) } }
            if request.onlyFailed { reusable = try reusableStages(of: previous) }
        }
        for (name, value) in request.params {
            guard params[name] != nil else {
                throw RunRequestError("job '\(job.name)' has no param '\(name)'"
                    + (Suggestion.hint(for: name, in: params.keys).map { "; \($0)" } ?? "; declare it under the job's `params:`"))
            }
            params[name] = value
        }
        return (params, rerunOf, reusable)
    }

    /// Records the job's run (who runs it, where, from which spec and commit) with its lease; a
    /// dead holder's lease is taken over and its attempts stopped.
    func start(_ request: RunRequest, job: JobSpec, params: [String: SpecValue], rerunOf: RunRecord?) async throws -> RunRecord {
        let runID = request.runID ?? RunRecord.newID()
        let identity = ProcessIdentity.current()
        let started = store.nowMillis()
        var parent = RunRecord(id: runID, experimentID: 0, name: job.name, status: .running, startTime: started, kind: .job)
        parent.job = job.name
        parent.trigger = request.trigger
        parent.pid = Int(identity.pid)
        parent.pidStartTime = identity.startTime
        parent.bootID = identity.bootID
        parent.host = identity.host
        parent.heartbeatTime = started
        parent.specSHA256 = spec.sha256
        parent.gitCommit = workspace.gitCommit()
        parent.userID = ProcessInfo.processInfo.environment["USER"]
        parent.artifactURI = workspace.runDirectory(experiment: job.name, runID: runID) + "/artifacts"
        var tags = ["mlops.job": job.name, "mlops.trigger": request.trigger.rawValue, "mlops.spec_sha256": spec.sha256,
                    "mlflow.runName": job.name, "mlflow.user": parent.userID ?? ""]
        if let commit = parent.gitCommit { tags["mlflow.source.git.commit"] = commit }
        if let rerunOf { tags["mlops.rerun_of"] = rerunOf.id }
        tags.merge(request.tags) { a, _ in a }
        let (replaced, recorded) = try recordStart(parent, job: job, identity: identity, params: params.mapValues(\.description), tags: tags)
        if let replaced {
            try? await OrphanReaper(store: store, executors: executors).stopOrphanedAttempts(of: replaced.runID)
            report(.leaseTakenOver(from: replaced))
        }
        return recorded
    }

    /// Starting is one transaction: the lease (refused while a live run holds it), the experiment and
    /// the job run appear together or not at all.
    func recordStart(_ parent: RunRecord, job: JobSpec, identity: ProcessIdentity, params: [String: String],
                     tags: [String: String]) throws -> (JobLease.Holder?, RunRecord) {
        let experimentsDirectory = workspace.experimentsDirectory
        return try store.write { tx in
            let replaced = job.concurrency.exclusive
                ? try JobLease.acquire(tx, job: job.name, runID: parent.id, identity: identity, now: parent.startTime ?? store.nowMillis())
                : nil
            var run = parent
            run.experimentID = try Tracker.experimentID(tx, named: job.name, artifactLocation: "\(experimentsDirectory)/\(job.name)")
            try Tracker.create(tx, run, params: params, tags: tags)
            return (replaced, run)
        }
    }

    /// Ending is one transaction too: the run's end and the lease's release.
    /// A failure puts its announcements (run failed, gate failed) in the outbox in the same transaction.
    func recordEnd(_ runID: String, job: JobSpec, outcome: RunOutcome, message: String?,
                   failures: [JobRunResult.StageResult] = []) throws -> RunRecord {
        try store.write { tx in
            try Tracker.finish(tx, runID, outcome: outcome, endTime: store.nowMillis(),
                               exitCode: outcome == .succeeded ? 0 : 1, message: message)
            if outcome == .failed {
                let short = String(runID.prefix(8))
                try Outbox.enqueue(tx, .runFailed, job: job.name, summary: "\(job.name) run \(short) failed: \(message ?? "")",
                                   details: ["run_id": runID, "failed_stages": failures.map { ["stage": $0.name, "message": $0.message ?? ""] }])
                for gate in failures where job.stages.first(where: { $0.name == gate.name })?.action == .builtin("gate") {
                    try Outbox.enqueue(tx, .gateFailed, job: job.name, summary: "\(job.name) run \(short): \(gate.message ?? "gate failed")",
                                       details: ["run_id": runID, "stage": gate.name, "stage_run_id": gate.runID as Any])
                }
            }
            if job.concurrency.exclusive { try JobLease.release(tx, job: job.name, runID: runID) }
            guard let run = try Tracker.run(tx, runID) else { throw Tracker.TrackingError("no run \(runID)") }
            return run
        }
    }

    func resolveRerun(_ id: String, job: JobSpec) throws -> RunRecord {
        let previous: RunRecord
        do { previous = try tracker.resolve(id, kind: .job) } catch { throw RunRequestError("cannot rerun: \(error)") }
        guard previous.job == job.name else {
            throw RunRequestError("run \(previous.shortID) is a run of job '\(previous.job ?? "?")', not '\(job.name)'")
        }
        guard previous.status.isTerminal else {
            throw RunRequestError("run \(previous.shortID) is still \(previous.status.rawValue); wait for it to end")
        }
        return previous
    }

    /// For each stage, its last attempt in `previous` if that succeeded (or was itself reused).
    func reusableStages(of previous: RunRecord) throws -> [String: RunRecord] {
        var latest: [String: RunRecord] = [:]
        let children = try tracker.children(of: previous.id)
        for child in children {
            guard let stage = child.stage else { continue }
            if let current = latest[stage], (current.attempt ?? 0, current.startTime ?? 0) > (child.attempt ?? 0, child.startTime ?? 0) { continue }
            latest[stage] = child
        }
        // A sharded stage is one run per copy: it is run again whole rather than reused in part.
        let sharded = Set(children.filter { $0.name?.contains("[") == true }.compactMap(\.stage))
        return latest.filter { ($0.value.outcome == .succeeded || $0.value.outcome == .reused) && !sharded.contains($0.key) }
    }

    func schedule(job: JobSpec, parent: RunRecord, params: [String: SpecValue], reusable: [String: RunRecord],
                  maxParallel: Int, echo: Bool) async -> [String: StageState] {
        var states: [String: StageState] = Dictionary(uniqueKeysWithValues: job.stages.map { ($0.name, .pending) })
        let graph = StageGraph(job: job)
        let width = job.stages.map(\.name.count).max() ?? 0
        func done(_ name: String) -> Done? {
            if case let .done(d)? = states[name] { return d }
            return nil
        }
        await withTaskGroup(of: Done.self) { group in
            var running = 0
            while true {
                var changed = true
                while changed && !Task.isCancelled {
                    changed = false
                    for stage in job.stages {
                        guard case .pending? = states[stage.name] else { continue }
                        let needs = stage.needs.compactMap(done)
                        guard needs.count == stage.needs.count else { continue }
                        if let old = reusable[stage.name] {
                            states[stage.name] = .done(recordReuse(stage: stage, job: job, from: old, parent: parent))
                            changed = true
                            continue
                        }
                        // A condition that cannot be read (a store error) does not skip: the stage runs.
                        let upstream = stage.triggerRule == .anyFailed ? graph.ancestors(of: stage.name).compactMap(done) : needs
                        if let reason = Self.skipReason(stage.triggerRule, needs: upstream)
                            ?? stage.skipIf.flatMap({ (try? $0.reason(trigger: parent.trigger ?? .manual, store: store)) ?? nil }) {
                            states[stage.name] = .done(recordSkip(stage: stage, job: job, parent: parent, reason: reason))
                            changed = true
                            continue
                        }
                        guard running < maxParallel else { continue }
                        // Every ancestor's artifacts, the direct needs first, then the rest in spec order.
                        let ancestors = graph.ancestors(of: stage.name)
                        let order = stage.needs + job.stages.map(\.name).filter { ancestors.contains($0) && !stage.needs.contains($0) }
                        let inputs = order.compactMap { name in done(name).flatMap { d in d.artifacts.map { StageInput(stage: name, artifacts: $0, runID: d.runID) } } }
                        states[stage.name] = .running
                        running += 1
                        let prefix = echo ? Self.prefix(stage.name, width: width) : nil
                        group.addTask {
                            await self.runStage(stage, job: job, parent: parent, params: params, inputs: inputs, prefix: prefix)
                        }
                    }
                }
                if running == 0 { break }
                guard let finished = await group.next() else { break }
                running -= 1
                states[finished.name] = .done(finished)
            }
        }
        if Task.isCancelled {
            for stage in job.stages {
                if case .pending? = states[stage.name] {
                    states[stage.name] = .done(recordSkip(stage: stage, job: job, parent: parent, reason: "not started: the job was stopped"))
                }
            }
        }
        return states
    }

    /// Why a stage whose needs are all done does not run, or nil when it runs.
    static func skipReason(_ rule: TriggerRule, needs: [Done]) -> String? {
        let ok: Set<RunOutcome> = [.succeeded, .reused]
        let failed: Set<RunOutcome> = [.failed, .timedOut]
        switch rule {
        case .allSuccess:
            let bad = needs.filter { !ok.contains($0.outcome) }
            guard !bad.isEmpty else { return nil }
            return "upstream " + bad.map { "\($0.name) \($0.outcome == .skipped ? "skipped" : $0.outcome.rawValue.replacingOccurrences(of: "_", with: " "))" }
                .joined(separator: ", ")
        case .allDone:
            return nil
        case .oneFailed:
            return needs.contains { failed.contains($0.outcome) } ? nil : "trigger rule one_failed: no upstream stage failed"
        case .anyFailed:
            // `needs` holds every ancestor here.
            return needs.contains { failed.contains($0.outcome) } ? nil : "trigger rule any_failed: no stage upstream failed"
        case .noneFailed:
            let bad = needs.filter { !ok.contains($0.outcome) && $0.outcome != .skipped }
            return bad.isEmpty ? nil : "upstream " + bad.map { "\($0.name) \($0.outcome.rawValue.replacingOccurrences(of: "_", with: " "))" }.joined(separator: ", ")
        }
    }

    static func prefix(_ name: String, width: Int) -> String {
        let colors: [Console.Color] = [.cyan, .magenta, .blue, .yellow, .green]
        let color = colors[abs(name.hashValue) % colors.count]
        let padded = name.padding(toLength: width, withPad: " ", startingAt: 0)
        return Console.shared.paint("\(padded) |", color) + " "
    }
}

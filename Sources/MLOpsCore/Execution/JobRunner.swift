import Foundation
import GRDB

/// Runs one job's stages as a DAG: each stage starts as soon as its `needs` allow, up to
/// `max_parallel` at once; attempts are retried with exponential backoff; a failure skips what
/// depends on it while independent branches finish; every attempt is a child run in the store.
public final class JobRunner: Sendable {
    public let workspace: Workspace
    public let spec: JobsFile
    public let store: Store
    public let tracker: Tracker
    public let catalog: StageCatalog
    let report: @Sendable (RunEvent) -> Void

    public init(workspace: Workspace, spec: JobsFile, store: Store, catalog: StageCatalog = .standard,
                report: @escaping @Sendable (RunEvent) -> Void = { _ in }) {
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

        try OrphanReaper.reap(store)
        let runID = RunRecord.newID()
        let identity = ProcessIdentity.current()
        if job.concurrency == .forbid, let replaced = try JobLease.acquire(store, job: job.name, runID: runID, identity: identity) {
            report(.leaseTakenOver(from: replaced))
        }
        let started = Store.nowMillis()
        let experimentID: Int64
        var parent: RunRecord
        do {
            experimentID = try tracker.experimentID(named: job.name, artifactLocation: "\(workspace.experimentsDirectory)/\(job.name)")
            parent = RunRecord(id: runID, experimentID: experimentID, name: job.name, status: .running, startTime: started, kind: .job)
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
            var tags = ["mlops.job": job.name, "mlops.trigger": request.trigger, "mlops.spec_sha256": spec.sha256,
                        "mlflow.runName": job.name, "mlflow.user": parent.userID ?? ""]
            if let commit = parent.gitCommit { tags["mlflow.source.git.commit"] = commit }
            if let rerunOf { tags["mlops.rerun_of"] = rerunOf.id }
            try tracker.create(parent, params: params.mapValues(\.description), tags: tags)
        } catch {
            if job.concurrency == .forbid { try? JobLease.release(store, job: job.name, runID: runID) }
            throw error
        }

        let maxParallel = max(1, request.maxParallel ?? job.maxParallel ?? ProcessInfo.processInfo.activeProcessorCount)
        report(.jobStarted(runID: runID, job: job.name, stages: job.stages.count, maxParallel: maxParallel))
        let heartbeat = Task { [store] in
            while !Task.isCancelled {
                try? await Task.sleep(for: JobLease.heartbeatInterval)
                if Task.isCancelled { break }
                try? JobLease.heartbeat(store, job: job.name, runID: runID)
            }
        }
        defer { heartbeat.cancel() }

        let states = await schedule(job: job, parent: parent, params: params, reusable: reusable,
                                    maxParallel: maxParallel, echo: request.echo)
        let cancelled = Task.isCancelled
        let results = job.stages.compactMap { stage -> JobRunResult.StageResult? in
            guard case let .done(done)? = states[stage.name] else { return nil }
            return .init(name: done.name, outcome: done.outcome, message: done.message, runID: done.runID, attempts: done.attempts)
        }
        let failures = results.filter { $0.outcome == .failed || $0.outcome == .timedOut }
        let outcome: RunOutcome = cancelled ? .killed : failures.isEmpty ? .succeeded : .failed
        let message: String? = cancelled ? "stopped by request"
            : failures.isEmpty ? nil
            : failures.map { "\($0.name): \($0.message ?? $0.outcome.rawValue)" }.joined(separator: "; ")
        let finished = try tracker.update(runID, action: "finish") {
            $0.status = outcome.status
            $0.outcome = outcome
            $0.endTime = Store.nowMillis()
            $0.message = message
            $0.exitCode = outcome == .succeeded ? 0 : 1
        }
        if job.concurrency == .forbid { try? JobLease.release(store, job: job.name, runID: runID) }
        report(.jobFinished(run: finished))
        return JobRunResult(run: finished, stages: results)
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
        for child in try tracker.children(of: previous.id) {
            guard let stage = child.stage else { continue }
            if let current = latest[stage], (current.attempt ?? 0, current.startTime ?? 0) > (child.attempt ?? 0, child.startTime ?? 0) { continue }
            latest[stage] = child
        }
        return latest.filter { $0.value.outcome == .succeeded || $0.value.outcome == .reused }
    }

    func schedule(job: JobSpec, parent: RunRecord, params: [String: SpecValue], reusable: [String: RunRecord],
                  maxParallel: Int, echo: Bool) async -> [String: StageState] {
        var states: [String: StageState] = Dictionary(uniqueKeysWithValues: job.stages.map { ($0.name, .pending) })
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
                            states[stage.name] = .done(recordReuse(stage: stage, from: old, parent: parent))
                            changed = true
                            continue
                        }
                        if let reason = Self.skipReason(stage.triggerRule, needs: needs) {
                            states[stage.name] = .done(recordSkip(stage: stage, parent: parent, reason: reason))
                            changed = true
                            continue
                        }
                        guard running < maxParallel else { continue }
                        var inputs: [String: String] = [:]
                        for need in needs { if let artifacts = need.artifacts { inputs[need.name] = artifacts } }
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
                    states[stage.name] = .done(recordSkip(stage: stage, parent: parent, reason: "not started: the job was stopped"))
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
        }
    }

    static func prefix(_ name: String, width: Int) -> String {
        let colors: [Console.Color] = [.cyan, .magenta, .blue, .yellow, .green]
        let color = colors[abs(name.hashValue) % colors.count]
        let padded = name.padding(toLength: width, withPad: " ", startingAt: 0)
        return Console.shared.paint("\(padded) |", color) + " "
    }

    func stageRecord(_ stage: StageSpec, job: JobSpec, parent: RunRecord, attempt: Int, status: RunStatus, start: Int64) -> RunRecord {
        var run = RunRecord(experimentID: parent.experimentID, name: stage.name, status: status, startTime: start, kind: .stage)
        run.parentRunID = parent.id
        run.job = job.name
        run.stage = stage.name
        run.attempt = attempt
        run.trigger = parent.trigger
        run.userID = parent.userID
        run.specSHA256 = parent.specSHA256
        run.gitCommit = parent.gitCommit
        return run
    }

    func stageTags(_ stage: StageSpec, parent: RunRecord, attempt: Int) -> [String: String] {
        ["mlflow.parentRunId": parent.id, "mlflow.runName": stage.name, "mlops.job": parent.job ?? "",
         "mlops.stage": stage.name, "mlops.attempt": String(attempt), "mlops.trigger": parent.trigger ?? ""]
    }

    func recordSkip(stage: StageSpec, parent: RunRecord, reason: String) -> Done {
        let now = Store.nowMillis()
        var run = stageRecord(stage, job: spec.job(named: parent.job ?? "")!, parent: parent, attempt: 0, status: .killed, start: now)
        run.outcome = .skipped
        run.endTime = now
        run.message = reason
        try? tracker.create(run, tags: stageTags(stage, parent: parent, attempt: 0))
        report(.stageSkipped(stage: stage.name, reason: reason))
        return Done(name: stage.name, outcome: .skipped, message: reason, runID: run.id, artifacts: nil, attempts: 0)
    }

    func recordReuse(stage: StageSpec, from old: RunRecord, parent: RunRecord) -> Done {
        let now = Store.nowMillis()
        var run = stageRecord(stage, job: spec.job(named: parent.job ?? "")!, parent: parent, attempt: 0, status: .finished, start: now)
        run.outcome = .reused
        run.endTime = now
        run.message = "reused from run \(old.parentRunID?.prefix(8) ?? "?")"
        run.artifactURI = old.artifactURI
        var tags = stageTags(stage, parent: parent, attempt: 0)
        tags["mlops.reused_from"] = old.id
        try? store.database.write { db in
            try run.insert(db)
            try Tracker.upsertTags(db, runID: run.id, tags)
            try Tracker.rollUp(db, child: old.id, into: run.id)
            try Tracker.rollUp(db, child: old.id, into: parent.id)
            try AuditLog.record(db, entityType: "run", entityID: run.id, action: "reuse", to: RunStatus.finished.rawValue, detail: old.id)
        }
        report(.stageReused(stage: stage.name, from: old.id))
        return Done(name: stage.name, outcome: .reused, message: run.message, runID: run.id, artifacts: old.artifactURI, attempts: 0)
    }

    /// Every attempt of one stage, until one succeeds, retries run out, or the job is stopped.
    func runStage(_ stage: StageSpec, job: JobSpec, parent: RunRecord, params: [String: SpecValue],
                  inputs: [String: String], prefix: String?) async -> Done {
        let with = stage.with.mapValues { ParamReference.substitute($0, params: params) }
        var last = Done(name: stage.name, outcome: .failed, message: nil, runID: nil, artifacts: nil, attempts: 0)
        for attempt in 1...(stage.retries + 1) {
            if Task.isCancelled {
                return Done(name: stage.name, outcome: .killed, message: "stopped by request", runID: last.runID, artifacts: nil, attempts: attempt - 1)
            }
            last = await runAttempt(stage, attempt: attempt, job: job, parent: parent, params: params, with: with,
                                    inputs: inputs, prefix: prefix)
            if last.outcome == .succeeded || last.outcome == .killed { return last }
            if attempt <= stage.retries {
                let factor = pow(2.0, Double(attempt - 1))
                let delay = min(SpecDuration(milliseconds: Int64(Double(stage.retryDelay.milliseconds) * factor)), stage.maxRetryDelay)
                do { try await Task.sleep(for: delay.duration) } catch {
                    return Done(name: stage.name, outcome: .killed, message: "stopped by request", runID: last.runID, artifacts: nil, attempts: attempt)
                }
            }
        }
        return last
    }

    func runAttempt(_ stage: StageSpec, attempt: Int, job: JobSpec, parent: RunRecord, params: [String: SpecValue],
                    with: [String: SpecValue], inputs: [String: String], prefix: String?) async -> Done {
        let start = Store.nowMillis()
        var run = stageRecord(stage, job: job, parent: parent, attempt: attempt, status: .running, start: start)
        let runDirectory = workspace.runDirectory(experiment: job.name, runID: run.id)
        let artifacts = "\(runDirectory)/artifacts"
        run.artifactURI = artifacts
        let runner = ProcessIdentity.current()
        run.pid = Int(runner.pid)
        run.pidStartTime = runner.startTime
        run.bootID = runner.bootID
        run.host = runner.host
        func finish(_ termination: StageTermination, reportError: String? = nil) -> Done {
            var termination = termination
            if let reportError, termination == .succeeded { termination = .failed(reportError, exitCode: nil) }
            let outcome = termination.outcome
            let ended = Store.nowMillis()
            let runID = run.id
            do {
                try store.database.write { db in
                    try Tracker.finish(db, runID, outcome: outcome, endTime: ended,
                                       exitCode: termination.exitCode.map(Int.init), message: termination.message)
                    if outcome == .succeeded { try Tracker.rollUp(db, child: runID, into: parent.id) }
                }
            } catch {
                Console.shared.write("mlops: cannot record the end of \(stage.name): \(error)\n", to: .stderr)
            }
            var retryIn: SpecDuration?
            if outcome != .succeeded, outcome != .killed, attempt <= stage.retries {
                retryIn = min(SpecDuration(milliseconds: Int64(Double(stage.retryDelay.milliseconds) * pow(2.0, Double(attempt - 1)))), stage.maxRetryDelay)
            }
            report(.stageFinished(stage: stage.name, attempt: attempt, termination: termination, millis: ended - start, retryIn: retryIn))
            return Done(name: stage.name, outcome: outcome, message: termination.message, runID: runID,
                        artifacts: artifacts, attempts: attempt)
        }
        do {
            try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
            try tracker.create(run, params: with.mapValues(\.description), tags: stageTags(stage, parent: parent, attempt: attempt))
        } catch {
            report(.stageFinished(stage: stage.name, attempt: attempt, termination: .failed("cannot record the attempt: \(error)", exitCode: nil), millis: 0, retryIn: nil))
            return Done(name: stage.name, outcome: .failed, message: "cannot record the attempt: \(error)", runID: nil, artifacts: nil, attempts: attempt)
        }
        report(.stageStarted(stage: stage.name, attempt: attempt, runID: run.id))

        var echo: (@Sendable (Console.Stream, Substring) -> Void)?
        if let prefix {
            echo = { @Sendable stream, line in Console.shared.write(prefix + String(line) + "\n", to: stream) }
        }
        let context = StageContext(
            job: job.name, stage: stage.name, attempt: attempt, runID: run.id, parentRunID: parent.id,
            experimentID: parent.experimentID, workspace: workspace, runDirectory: runDirectory, artifactsDirectory: artifacts,
            stdoutLog: "\(runDirectory)/stdout.log", stderrLog: "\(runDirectory)/stderr.log", with: with, params: params,
            inputs: inputs, timeout: stage.timeout, killGrace: stage.killGrace, env: stage.env, echo: echo)

        let termination: StageTermination
        switch stage.action {
        case let .command(command, shell):
            let tracker = self.tracker
            let runID = run.id
            termination = await CommandStage(command: command, shell: shell).run(context) { identity in
                try? tracker.recordProcess(runID, identity)
            }
        case let .builtin(name):
            guard let builtin = catalog.makeStage(name, with: with) else {
                return finish(.failed("built-in stage '\(name)' cannot run in this version", exitCode: nil))
            }
            termination = await Self.runBuiltin(builtin, context: context)
        }
        var reportError: String?
        do {
            let stageReport = try StageReports.read(artifactsDirectory: artifacts)
            if !stageReport.params.isEmpty { try tracker.logParams(run.id, stageReport.params) }
            if !stageReport.metrics.isEmpty { try tracker.logMetrics(run.id, stageReport.metrics) }
        } catch {
            reportError = "\(error)"
        }
        return finish(termination, reportError: reportError)
    }

    /// A built-in runs in this process: its timeout is a race against a timer, which cancels it.
    static func runBuiltin(_ stage: any Stage, context: StageContext) async -> StageTermination {
        guard let timeout = context.timeout else { return await stage.run(context) { _ in } }
        return await withTaskGroup(of: StageTermination?.self) { group in
            group.addTask { await stage.run(context) { _ in } }
            group.addTask {
                do { try await Task.sleep(for: timeout.duration) } catch { return .killed("stopped by request") }
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .timedOut(timeout)
        }
    }
}

import Foundation

/// One stage's life inside a job run: its attempts (each a child run, retried with backoff), and
/// the records of stages that are skipped or reused instead of run.
extension JobRunner {
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
         "mlops.stage": stage.name, "mlops.attempt": String(attempt), "mlops.trigger": parent.trigger?.rawValue ?? ""]
    }

    func recordSkip(stage: StageSpec, job: JobSpec, parent: RunRecord, reason: String) -> Done {
        let now = store.nowMillis()
        var run = stageRecord(stage, job: job, parent: parent, attempt: 0, status: .killed, start: now)
        run.outcome = .skipped
        run.endTime = now
        run.message = reason
        try? tracker.create(run, tags: stageTags(stage, parent: parent, attempt: 0))
        report(.stageSkipped(stage: stage.name, reason: reason))
        return Done(name: stage.name, outcome: .skipped, message: reason, runID: run.id, artifacts: nil, attempts: 0)
    }

    func recordReuse(stage: StageSpec, job: JobSpec, from old: RunRecord, parent: RunRecord) -> Done {
        let now = store.nowMillis()
        var run = stageRecord(stage, job: job, parent: parent, attempt: 0, status: .finished, start: now)
        run.outcome = .reused
        run.endTime = now
        run.message = "reused from run \(old.parentRunID?.prefix(8) ?? "?")"
        run.artifactURI = old.artifactURI
        var tags = stageTags(stage, parent: parent, attempt: 0)
        tags["mlops.reused_from"] = old.id
        try? store.write { try Tracker.recordReuse($0, run, tags: tags, from: old.id, parentID: parent.id) }
        report(.stageReused(stage: stage.name, from: old.id))
        return Done(name: stage.name, outcome: .reused, message: run.message, runID: run.id, artifacts: old.artifactURI, attempts: 0)
    }

    /// Every attempt of one stage, until one succeeds, retries run out, or the job is stopped; a
    /// stage with `shards:` runs that many copies, each with its own attempts.
    func runStage(_ stage: StageSpec, job: JobSpec, parent: RunRecord, params: [String: SpecValue],
                  inputs: [StageInput], prefix: String?) async -> Done {
        if stage.shards > 1 { return await runShards(stage, job: job, parent: parent, params: params, inputs: inputs, prefix: prefix) }
        return await runAttempts(stage, shard: nil, job: job, parent: parent, params: params, inputs: inputs, prefix: prefix)
    }

    func runAttempts(_ stage: StageSpec, shard: StageShard?, job: JobSpec, parent: RunRecord, params: [String: SpecValue],
                     inputs: [StageInput], prefix: String?) async -> Done {
        let with = stage.with.mapValues { ParamReference.substitute($0, params: params) }
        var last = Done(name: stage.name, outcome: .failed, message: nil, runID: nil, artifacts: nil, attempts: 0)
        for attempt in 1...(stage.retries + 1) {
            if Task.isCancelled {
                return Done(name: stage.name, outcome: .killed, message: "stopped by request", runID: last.runID, artifacts: nil, attempts: attempt - 1)
            }
            last = await runAttempt(stage, attempt: attempt, shard: shard, job: job, parent: parent, params: params, with: with,
                                    inputs: inputs, prefix: prefix)
            if last.outcome == .succeeded || last.outcome == .killed { return last }
            if attempt <= stage.retries {
                do { try await Task.sleep(for: stage.delay(afterAttempt: attempt).duration) } catch {
                    return Done(name: stage.name, outcome: .killed, message: "stopped by request", runID: last.runID, artifacts: nil, attempts: attempt)
                }
            }
        }
        return last
    }

    func runAttempt(_ stage: StageSpec, attempt: Int, shard: StageShard?, job: JobSpec, parent: RunRecord, params: [String: SpecValue],
                    with: [String: SpecValue], inputs: [StageInput], prefix: String?) async -> Done {
        let start = store.nowMillis()
        var run = stageRecord(stage, job: job, parent: parent, attempt: attempt, status: .running, start: start)
        if let shard { run.name = StageShard.runName(stage.name, shard) }
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
            StartupTrace.mark("\(stage.name): ended")
            let ended = store.nowMillis()
            let runID = run.id
            do {
                try store.write { tx in
                    try Tracker.finish(tx, runID, outcome: outcome, endTime: ended,
                                       exitCode: termination.exitCode.map(Int.init), message: termination.message)
                    if outcome == .succeeded { try Tracker.rollUp(tx, child: runID, into: parent.id) }
                }
            } catch {
                Console.shared.write("mlops: cannot record the end of \(stage.name): \(error)\n", to: .stderr)
            }
            var retryIn: SpecDuration?
            if outcome != .succeeded, outcome != .killed, attempt <= stage.retries {
                retryIn = stage.delay(afterAttempt: attempt)
            }
            report(.stageFinished(stage: run.name ?? stage.name, attempt: attempt, termination: termination, millis: ended - start, retryIn: retryIn))
            return Done(name: stage.name, outcome: outcome, message: termination.message, runID: runID,
                        artifacts: artifacts, attempts: attempt)
        }
        do {
            try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
            var tags = stageTags(stage, parent: parent, attempt: attempt)
            if let shard {
                tags["mlops.shard"] = "\(shard.index)/\(shard.count)"
                tags["mlflow.runName"] = run.name
            }
            try tracker.create(run, params: with.mapValues(\.description), tags: tags)
        } catch {
            report(.stageFinished(stage: stage.name, attempt: attempt, termination: .failed("cannot record the attempt: \(error)", exitCode: nil), millis: 0, retryIn: nil))
            return Done(name: stage.name, outcome: .failed, message: "cannot record the attempt: \(error)", runID: nil, artifacts: nil, attempts: attempt)
        }
        report(.stageStarted(stage: run.name ?? stage.name, attempt: attempt, runID: run.id))
        StartupTrace.mark("\(stage.name): recorded, starting")

        let echo = prefix.map(Self.echo(prefix:))
        var trackingURI: String?
        if case .command = stage.action {
            if case let .ray(ray) = stage.executor, let remote = remoteTrackingURL ?? ray.trackingURL {
                trackingURI = remote
            } else {
                trackingURI = await tracking?.uri()
            }
        }
        let context = StageContext(
            job: job.name, stage: stage.name, attempt: attempt, runID: run.id, parentRunID: parent.id,
            experimentID: parent.experimentID, workspace: workspace, store: store, runDirectory: runDirectory, artifactsDirectory: artifacts,
            stdoutLog: "\(runDirectory)/stdout.log", stderrLog: "\(runDirectory)/stderr.log", with: with, params: params,
            inputs: inputs, timeout: stage.timeout, killGrace: stage.killGrace, env: stage.env, echo: echo, trackingURI: trackingURI,
            executor: executors[stage.executor.name] ?? LocalProcessExecutor(), placement: stage.executor, shard: shard)

        let termination: StageTermination
        switch stage.action {
        case let .command(command, shell):
            let tracker = self.tracker
            let runID = run.id
            termination = await CommandStage(command: command, shell: shell).run(context) { handle in
                try? tracker.recordAttempt(runID, handle)
            }
        case let .builtin(name):
            guard let builtin = catalog.makeStage(name, with: with) else {
                return finish(.failed("built-in stage '\(name)' cannot run in this version", exitCode: nil))
            }
            termination = await Self.runBuiltin(builtin, context: context)
        }
        var reportError: String?
        do {
            let stageReport = try StageReports.read(artifactsDirectory: artifacts, timestamp: store.nowMillis())
            if !stageReport.params.isEmpty { try tracker.logParams(run.id, stageReport.params) }
            if !stageReport.metrics.isEmpty { try tracker.logMetrics(run.id, stageReport.metrics) }
        } catch {
            reportError = "\(error)"
        }
        return finish(termination, reportError: reportError)
    }

    /// Whole lines of a stage's output on the terminal, after its prefix.
    static func echo(prefix: String) -> @Sendable (Console.Stream, Substring) -> Void {
        { @Sendable stream, line in Console.shared.write(prefix + String(line) + "\n", to: stream) }
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

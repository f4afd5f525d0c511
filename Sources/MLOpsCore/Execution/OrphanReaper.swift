import Foundation

/// Finds job runs left RUNNING by a runner that died (killed, rebooted) and settles them, so that
/// no run stays RUNNING for ever and nothing keeps running that no run knows of:
/// - a local attempt outlived its runner's pipes: it is stopped and marked orphaned;
/// - a remote attempt (a Ray job) that ended has its end and its last log recorded; one its
///   executor no longer knows (a head restarted) is recorded as lost;
/// - a remote attempt still running is followed to its end, its log continuing from the saved
///   offset, when the caller reattaches (`mlops run` of that job, the scheduler); otherwise the job
///   run stays RUNNING while that job runs (`mlops runs` only looks).
/// The job run is closed as orphaned once none of its attempts is alive. Cheap when nothing is
/// running: one indexed query.
public struct OrphanReaper: Sendable {
    public var store: Store
    public var executors: ExecutorCatalog = .standard
    /// What a reattaching process needs: where the logs go, the stages' settings. Without it the
    /// reaper only looks.
    public var reattach: Reattach?

    public struct Reattach: Sendable {
        public var workspace: Workspace
        public var spec: JobsFile
        /// The jobs whose live remote attempts this process follows; nil for every job.
        public var jobs: Set<String>?
        /// The stage's output for the terminal, by stage name, or nil.
        public var echo: (@Sendable (String) -> (@Sendable (Console.Stream, Substring) -> Void)?)?
        public var report: @Sendable (RunEvent) -> Void

        public init(workspace: Workspace, spec: JobsFile, jobs: Set<String>?,
                    echo: (@Sendable (String) -> (@Sendable (Console.Stream, Substring) -> Void)?)? = nil,
                    report: @escaping @Sendable (RunEvent) -> Void = { _ in }) {
            self.workspace = workspace
            self.spec = spec
            self.jobs = jobs
            self.echo = echo
            self.report = report
        }
    }

    /// What a pass did.
    public struct Result: Sendable {
        /// Job runs closed as orphaned.
        public var closed: [String] = []
        /// Job runs this pass closed after settling their remote attempts (followed to their end,
        /// found ended, or lost), by job: a plain run of that job resumes them.
        public var resumable: [(job: String, runID: String)] = []
    }

    public init(store: Store, executors: ExecutorCatalog = .standard, reattach: Reattach? = nil) {
        self.store = store
        self.executors = executors
        self.reattach = reattach
    }

    /// One pass over every RUNNING job run.
    @discardableResult
    public func reap(now: Int64? = nil) async throws -> Result {
        var result = Result()
        for run in try store.read({ try OrphanRecords.runningJobRuns($0) }) {
            guard let pid = run.pid else { continue }
            let runner = ProcessIdentity(pid: Int32(pid), startTime: run.pidStartTime, bootID: run.bootID, host: run.host ?? "")
            let at = now ?? store.nowMillis()
            let alive = runner.isAlive() ?? (at - (run.heartbeatTime ?? run.startTime ?? 0) < JobLease.staleAfterMillis)
            if alive { continue }
            var remoteAlive = false
            var followed = false
            var settled = false
            for attempt in try store.read({ try OrphanRecords.runningAttempts($0, jobRunID: run.id) }) {
                guard let handle = attempt.attemptHandle, case .remote = handle, let executor = executors.owner(of: handle) else { continue }
                switch try await settle(attempt, of: run, handle: handle, executor: executor, runner: runner) {
                case .alive: remoteAlive = true
                case .followed: followed = true; settled = true
                case .settled: settled = true
                }
            }
            if remoteAlive { continue }
            let reason = "orphaned: its runner (pid \(pid)) is gone" + (followed ? "; its remote stages were followed to their end" : "")
            let attempts = try store.write { tx in
                try OrphanRecords.closeIfRunning(tx, jobRunID: run.id, reason: reason, now: now ?? tx.nowMillis())
            }
            if settled, let job = run.job { result.resumable.append((job, run.id)) }
            guard let attempts else { continue }
            await Self.stop(attempts, executors: executors)
            result.closed.append(run.id)
        }
        return result
    }

    enum Settled { case alive, followed, settled }

    /// One remote attempt of a job run whose runner is gone.
    func settle(_ attempt: RunRecord, of run: RunRecord, handle: AttemptHandle, executor: any StageExecutor,
                runner: ProcessIdentity) async throws -> Settled {
        // A follower other than the dead runner that is alive has it in hand.
        let holder = ProcessIdentity(pid: Int32(attempt.pid ?? 0), startTime: attempt.pidStartTime, bootID: attempt.bootID, host: attempt.host ?? "")
        if holder != runner, holder.isAlive() != false { return .alive }
        switch await executor.probe(handle) {
        case .lost(let reason):
            // Another reaper may have recorded it first: then this one changes nothing.
            _ = try store.write { tx in
                try OrphanRecords.finishAttemptIfRunning(tx, attemptID: attempt.id, outcome: .failed, exitCode: nil, message: reason, now: tx.nowMillis())
            }
            return .settled
        case .unknown:
            return .alive
        case .alive:
            guard let reattach, reattach.jobs?.contains(run.job ?? "") ?? true else { return .alive }
            return try await follow(attempt, of: run, handle: handle, executor: executor, holder: holder, reattach: reattach) ? .followed : .alive
        case .ended(let termination):
            // With a workspace, its last log too, through the same path as a live one.
            guard let reattach else {
                try record(attempt, termination, note: "recorded after its runner died")
                return .settled
            }
            return try await follow(attempt, of: run, handle: handle, executor: executor, holder: holder, reattach: reattach) ? .followed : .alive
        }
    }

    /// Claims the attempt, follows it to its end and records that end; false when another process claimed it first.
    func follow(_ attempt: RunRecord, of run: RunRecord, handle: AttemptHandle, executor: any StageExecutor,
                holder: ProcessIdentity, reattach: Reattach) async throws -> Bool {
        let me = ProcessIdentity.current()
        guard try store.write({ try OrphanRecords.claimAttempt($0, attemptID: attempt.id, previous: holder, follower: me) }) else { return false }
        let stageName = attempt.stage ?? attempt.name ?? "?"
        let stage = run.job.flatMap { reattach.spec.job(named: $0) }?.stage(named: stageName)
        let folder = reattach.workspace.runDirectory(experiment: run.job ?? "", runID: attempt.id)
        var command = StageCommand(
            executable: "", arguments: [], environment: [:], variables: [:], workingDirectory: reattach.workspace.root,
            stdoutLog: folder + "/stdout.log", stderrLog: folder + "/stderr.log",
            timeout: nil, killGrace: stage?.killGrace ?? .seconds(10), echo: reattach.echo?(stageName), runID: attempt.id,
            placement: stage?.executor ?? .local, submissionID: "")
        if let limit = stage?.timeout {
            let spent = store.nowMillis() - (attempt.startTime ?? store.nowMillis())
            command.timeout = SpecDuration(milliseconds: max(1, limit.milliseconds - spent))
        }
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        reattach.report(.stageReattached(stage: stageName, runID: attempt.id, jobRunID: run.id))
        let tracker = Tracker(store: store)
        let termination = await executor.reattach(handle, command) { updated in try? tracker.recordAttempt(attempt.id, updated) }
            ?? .failed("its executor cannot reattach", exitCode: nil)
        try record(attempt, termination, note: "followed to its end by pid \(me.pid) after its runner died")
        reattach.report(.stageFinished(stage: stageName, attempt: attempt.attempt ?? 1, termination: termination,
                                       millis: store.nowMillis() - (attempt.startTime ?? 0), retryIn: nil))
        return true
    }

    func record(_ attempt: RunRecord, _ termination: StageTermination, note: String) throws {
        let message = termination.message.map { "\($0) (\(note))" } ?? note
        _ = try store.write { tx in
            try OrphanRecords.finishAttemptIfRunning(tx, attemptID: attempt.id, outcome: termination.outcome,
                                                     exitCode: termination.exitCode.map(Int.init), message: message, now: tx.nowMillis())
        }
    }

    /// Stops, through their executors, the attempts of `jobRunID` that were closed as orphans
    /// (a runner that took over a lease calls this for the run it replaced).
    public func stopOrphanedAttempts(of jobRunID: String) async throws {
        await Self.stop(try Tracker(store: store).children(of: jobRunID).filter { $0.outcome == .orphaned }, executors: executors)
    }

    static func stop(_ attempts: [RunRecord], executors: ExecutorCatalog) async {
        for handle in attempts.compactMap(\.attemptHandle) {
            guard let executor = executors.owner(of: handle), await executor.probe(handle) == .alive else { continue }
            await executor.stop(handle)
        }
    }
}

import Foundation

/// The loop that makes the workspace run unattended. Each tick it closes runs orphaned by a dead
/// runner (resuming a scheduled one from its failed stages), fires the schedules that are due
/// under their catch-up and concurrency rules, evaluates the monitors and starts the retrains they
/// ask for, advances the rollouts whose bake or analysis is due, and delivers notifications. Runs
/// are in process; the store is the only shared state, so two daemons on one store share the work
/// without firing anything twice (see `ScheduleBook`).
public actor SchedulerDaemon {
    public let id: String
    let workspace: Workspace
    let spec: JobsFile
    let store: Store
    let log: DaemonLog
    /// Params for a fire's run; the simulation sets the week from the fire's date.
    let paramsForFire: @Sendable (JobSpec, Date) -> [String: SpecValue]
    /// When this daemon began: schedules with no fire on record start from here.
    let since: Int64
    var running: [String: (job: String, task: Task<Void, Never>)] = [:]
    /// Following dead runners' remote attempts, in the background; a stopping daemon leaves it (the
    /// attempts keep running, and the next reaper follows them).
    var reattaching: Task<Void, Never>?
    var stopping = false
    /// Each phase of a tick waits for the runs the one before started (the simulation): monitors
    /// and rollouts then see the week's scores and outcomes whatever the threads do, and the same
    /// seed gives the same year. A real daemon lets runs go on while it looks at the rest.
    public var settlesBetweenPhases = false

    public func settleBetweenPhases(_ settle: Bool) { settlesBetweenPhases = settle }

    public init(workspace: Workspace, spec: JobsFile, store: Store, log: DaemonLog = DaemonLog(), now: Int64? = nil,
                paramsForFire: @escaping @Sendable (JobSpec, Date) -> [String: SpecValue] = { _, _ in [:] }) {
        id = RunRecord.newID()
        self.workspace = workspace
        self.spec = spec
        self.store = store
        self.log = log
        self.paramsForFire = paramsForFire
        since = now ?? store.nowMillis()
    }

    /// Puts this daemon on record (pid, host, heartbeat) before its first tick.
    public func register() throws {
        let me = ProcessIdentity.current()
        try store.write { try DaemonRecords.register($0, id: id, identity: me, now: since) }
        log("daemon_started", ["daemon": String(id.prefix(8)), "pid": String(me.pid), "jobs": spec.jobs.filter { $0.schedule != nil }.map(\.name).joined(separator: ","),
                               "monitors": spec.monitors.map(\.name).joined(separator: ",")])
    }

    /// One pass; returns when everything it decided has started (not finished).
    public func tick(now: Int64) async {
        guard !stopping else { return }
        do {
            try store.write { try DaemonRecords.heartbeat($0, id: id, now: now) }
            try await recoverOrphans(now: now)
            for job in spec.jobs where job.schedule != nil { try fireSchedule(job, now: now) }
            if settlesBetweenPhases { await waitIdle() }
            try checkMonitors(now: now)
            if settlesBetweenPhases { await waitIdle() }
            try advanceRollouts(now: now)
        } catch {
            log(.error, "tick_failed", ["error": "\(error)"])
        }
        if !spec.notify.isEmpty || spec.jobs.contains(where: { !$0.notify.isEmpty }) {
            await Notifier(store: store, spec: spec).deliverPending(budget: .seconds(1))
        }
    }

    /// Waits until every run this daemon started has ended.
    public func waitIdle() async {
        while let (_, entry) = running.first { await entry.task.value }
        await reattaching?.value
    }

    public var runningJobs: [String] { running.values.map(\.job) }

    /// Stops taking work, lets the running jobs finish for up to `grace`, then stops them (TERM,
    /// their kill grace, KILL); returns when none of its runs is left RUNNING. A dead runner's
    /// remote attempt it was following keeps running, for the next reaper to follow.
    public func stop(grace: Duration) async {
        stopping = true
        log("daemon_stopping", ["running": String(running.count), "grace": "\(grace)"])
        let deadline = ContinuousClock.now + grace
        while !running.isEmpty, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(100)) }
        for (runID, entry) in running {
            log(.warn, "run_stopped", ["job": entry.job, "run": String(runID.prefix(8)), "reason": "grace period over"])
            entry.task.cancel()
        }
        while let (_, entry) = running.first { await entry.task.value }
        try? store.write { try DaemonRecords.stopped($0, id: id, now: store.nowMillis()) }
        log("daemon_stopped", ["daemon": String(id.prefix(8))])
    }

    // MARK: The tick's parts

    func recoverOrphans(now: Int64) async throws {
        for orphan in try await OrphanReaper(store: store).reap(now: now).closed {
            log(.warn, "run_orphaned", ["run": String(orphan.prefix(8))])
        }
        reattachRemoteAttempts()
        for fire in try store.read({ try ScheduleBook.orphanedFires($0) }) {
            guard let job = spec.job(named: fire.job) else { continue }
            guard fire.resumes < ScheduleBook.maxResumes else {
                log(.error, "fire_abandoned", ["job": job.name, "run": String(fire.run.prefix(8)),
                                               "reason": "its runner died \(fire.resumes + 1) times; run it by hand with mlops run --rerun"])
                try store.write { try ScheduleBook.abandon($0, job: job.name, time: fire.time, resumes: fire.resumes) }
                continue
            }
            var request = fireRequest(job, time: fire.time)
            request.rerunOf = fire.run
            request.onlyFailed = true
            request.tags["mlops.resumed_from"] = fire.run
            let resumed = try store.write { try ScheduleBook.resumed($0, orphan: fire.run, as: request.runID!) }
            if resumed { launch(request, why: "resume") }
        }
    }

    /// Remote attempts of dead runners that still run are followed to their end in the background
    /// (one follower at a time in this daemon; the store's claim keeps other processes off them);
    /// the orphaned fire is then resumed by the next tick, reusing what they produced.
    func reattachRemoteAttempts() {
        guard reattaching == nil else { return }
        let log = self.log
        let reaper = OrphanReaper(store: store, reattach: .init(workspace: workspace, spec: spec, jobs: nil, report: { event in
            if case let .stageReattached(stage, runID, jobRunID) = event {
                log(.warn, "stage_reattached", ["stage": stage, "stage_run": String(runID.prefix(8)), "run": String(jobRunID.prefix(8))])
            }
        }))
        reattaching = Task {
            _ = try? await reaper.reap()
            self.reattached()
        }
    }

    func reattached() { reattaching = nil }

    func fireSchedule(_ job: JobSpec, now: Int64) throws {
        guard let cron = job.schedule else { return }
        let zone = job.timezone.flatMap(TimeZone.init(identifier:)) ?? .current
        let last = try store.read { try ScheduleBook.lastFireTime($0, job: job.name) } ?? since
        let plan = FirePlan.due(cron, in: zone, after: Self.date(last), now: Self.date(now), catchup: job.catchup)
        for fire in plan.missed {
            let claimed = try store.write {
                try ScheduleBook.claim($0, .init(job: job.name, time: Self.millis(fire), status: .missed, daemon: id,
                                                 detail: "missed while no scheduler ran; catchup: \(job.catchup.rawValue)"), now: now)
            }
            if claimed { log(.warn, "fire_missed", ["job": job.name, "fire": DaemonLog.timestamp(Self.millis(fire))]) }
        }
        for fire in plan.start {
            let time = Self.millis(fire)
            let going = try runningRun(of: job.name)
            let behind = try store.read { try !ScheduleBook.queued($0, job: job.name).isEmpty }
            let waits = (going != nil && job.concurrency != .allow) || behind || job.catchup == .all && plan.start.count > 1
            if waits && job.concurrency == .forbid && job.catchup != .all {
                let claimed = try store.write {
                    try ScheduleBook.claim($0, .init(job: job.name, time: time, status: .skipped, daemon: id,
                                                     detail: "run \(going.map { String($0.prefix(8)) } ?? "?") was still going (concurrency: forbid)"), now: now)
                }
                if claimed { log(.warn, "fire_skipped", ["job": job.name, "fire": DaemonLog.timestamp(time), "running": String(going?.prefix(8) ?? "")]) }
            } else if waits {
                let claimed = try store.write {
                    try ScheduleBook.claim($0, .init(job: job.name, time: time, status: .queued, daemon: id), now: now)
                }
                guard claimed else { continue }
                log("fire_queued", ["job": job.name, "fire": DaemonLog.timestamp(time)])
                if job.concurrency == .replace, let going { stopRun(going, job: job.name) }
            } else {
                let request = fireRequest(job, time: time)
                let claimed = try store.write {
                    try ScheduleBook.claim($0, .init(job: job.name, time: time, status: .started, runID: request.runID, daemon: id), now: now)
                }
                if claimed { launch(request, why: "fire") }
            }
        }
        // A queued fire starts once nothing of its job is going.
        if try runningRun(of: job.name) == nil,
           let time = try store.read({ try ScheduleBook.queued($0, job: job.name).first }) {
            let request = fireRequest(job, time: time)
            if try store.write({ try ScheduleBook.startQueued($0, job: job.name, time: time, runID: request.runID!, daemon: id) }) {
                launch(request, why: "queued fire")
            }
        }
    }

    /// A run of `job` that is going: one this daemon launched (its record may not be written yet)
    /// or a RUNNING one on record, from any process.
    func runningRun(of job: String) throws -> String? {
        if let mine = running.first(where: { $0.value.job == job })?.key { return mine }
        return try store.read { try ScheduleBook.isRunning($0, job: job) }
    }

    /// The run a fire starts, with the id its fire row records.
    func fireRequest(_ job: JobSpec, time: Int64) -> RunRequest {
        var request = RunRequest(job: job.name, params: paramsForFire(job, Self.date(time)), trigger: .schedule, echo: false)
        request.runID = RunRecord.newID()
        request.tags["mlops.fire_time"] = DaemonLog.timestamp(time)
        return request
    }

    func checkMonitors(now: Int64) throws {
        for result in try MonitorCycle(store: store, spec: spec).run(now: now) {
            let e = result.evaluation
            log(e.verdict == .dropped ? .warn : .info, "monitor_evaluated",
                ["monitor": result.monitor.name, "verdict": e.verdict.rawValue, "hit_rate": e.rate.map { String(format: "%.4f", $0) } ?? "-",
                 "n": String(e.trials), "baseline": e.baseline.map { String(format: "%.4f", $0) } ?? "-",
                 "drift_share": e.drift.map { String(format: "%.2f", $0.share) } ?? "-"])
            guard let decision = result.decision else { continue }
            var request = result.retrain
            if let retrain = request, let job = spec.job(named: retrain.job) {
                request?.params = paramsForFire(job, Self.date(now)).merging(retrain.params) { _, monitor in monitor }
            }
            let claimed = try MonitorCycle.recordTrigger(store, monitor: result.monitor.name, decision: decision, runID: request?.runID,
                                                         now: now, cooldown: result.monitor.cooldown)
            if !claimed {
                log("retrain_refused", ["monitor": result.monitor.name, "reason": "another daemon started a retrain within the cooldown"])
            } else if let request {
                log("retrain_started", ["monitor": result.monitor.name, "job": request.job, "run": String(request.runID!.prefix(8)), "reason": decision.reason])
                launch(request, why: "monitor")
            } else {
                log("retrain_refused", ["monitor": result.monitor.name, "reason": decision.reason])
            }
        }
    }

    func advanceRollouts(now: Int64) throws {
        let models = try store.read { try RolloutRecords.modelsToAdvance($0) }
        let controller = RolloutController(store: store)
        for model in models {
            for transition in try controller.advance(model, now: now) {
                log("rollout", ["model": model, "transition": transition.summary])
            }
        }
    }

    // MARK: Runs

    func launch(_ request: RunRequest, why: String) {
        let runID = request.runID ?? RunRecord.newID()
        var request = request
        request.runID = runID
        let runner = JobRunner(workspace: workspace, spec: spec, store: store)
        let log = self.log
        log("run_started", ["job": request.job, "run": String(runID.prefix(8)), "trigger": request.trigger.rawValue, "why": why])
        let task = Task {
            do {
                let result = try await runner.run(request)
                let status = result.run.status
                log(status == .finished ? .info : .warn, "run_finished",
                    ["job": request.job, "run": String(runID.prefix(8)), "status": status.rawValue, "message": result.run.message ?? ""])
            } catch let held as JobLease.Held {
                log(.warn, "run_refused", ["job": request.job, "run": String(runID.prefix(8)), "reason": held.description])
                try? self.refused(request, reason: held.description)
            } catch {
                log(.error, "run_failed_to_start", ["job": request.job, "run": String(runID.prefix(8)), "error": "\(error)"])
            }
            self.finished(runID)
        }
        running[runID] = (request.job, task)
    }

    func finished(_ runID: String) { running[runID] = nil }

    /// A fire whose run another process's lease refused is recorded as skipped, not started.
    func refused(_ request: RunRequest, reason: String) throws {
        guard let runID = request.runID else { return }
        try store.write { try ScheduleBook.markSkipped($0, runID: runID, reason: reason) }
    }

    /// `concurrency: replace`: this daemon's run is cancelled; another process's runner gets SIGTERM.
    func stopRun(_ runID: String, job: String) {
        if let entry = running[runID] {
            entry.task.cancel()
        } else if let run = try? Tracker(store: store).run(runID), let pid = run.pid,
                  ProcessIdentity(pid: Int32(pid), startTime: run.pidStartTime, bootID: run.bootID, host: run.host ?? "").isAlive() == true {
            kill(Int32(pid), SIGTERM)
        }
        log("run_replaced", ["job": job, "run": String(runID.prefix(8))])
    }

    static func date(_ millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }
    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
}

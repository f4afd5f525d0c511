import Foundation

/// A year in seconds: the real scheduler daemon, stages, monitors and rollouts run against the
/// synthetic cohort on a virtual clock (`VirtualClock`). Time jumps from tick to tick (each day, and
/// just after each fire); each tick waits for the runs it started. The knobs move the world: the
/// concept and the behaviour drift from `driftWeek`, and in `badCandidateWeek` someone retrains
/// by hand on a corrupted label feed. Same seed, same weeks.
public final class Simulation: Sendable {
    public struct Settings: Sendable {
        public var job: String
        public var weeks = 52
        public var seed = 7
        public var customers: Int?
        public var driftWeek: Int? = 20
        public var badCandidateWeek: Int?
        /// Monday 4 January 2027, 07:00 UTC: after that Monday's fire, which the first manual run stands for.
        public var start = Date(timeIntervalSince1970: 1_799_046_000)

        public init(job: String) { self.job = job }

        public var startMillis: Int64 { Int64(start.timeIntervalSince1970 * 1000) }
    }

    public let settings: Settings
    let workspace: Workspace
    let spec: JobsFile
    let store: Store
    /// The store's clock, moved from tick to tick.
    let clock: VirtualClock
    let log: DaemonLog
    /// The job's `week` param at week 0 of the simulation.
    let firstWeek: Int

    static let day: Int64 = 86_400_000

    /// Takes the workspace's spec as written and sets the knobs on its synthetic-cohort stage.
    public init(workspace: Workspace, spec: JobsFile, store: Store, clock: VirtualClock, settings: Settings, log: DaemonLog) throws {
        guard store.clock as? VirtualClock === clock else {
            throw RunRequestError("the simulation's store must be opened with the simulation's clock")
        }
        guard var job = spec.job(named: settings.job) else {
            throw RunRequestError("no job '\(settings.job)' in \(spec.path); jobs: \(spec.jobs.map(\.name).joined(separator: ", "))")
        }
        guard let cohort = job.stages.firstIndex(where: { $0.action == .builtin("synthetic-cohort") }) else {
            throw RunRequestError("job '\(job.name)' has no `uses: synthetic-cohort` stage: the simulation needs the synthetic world")
        }
        firstWeek = job.paramValues["week"]?.int ?? 12
        var with = job.stages[cohort].with
        with["seed"] = .int(settings.seed)
        if let customers = settings.customers { with["customers"] = .int(customers) }
        if let drift = settings.driftWeek {
            with["concept_drift_week"] = .int(firstWeek + drift)
            with["concept_drift_ramp_weeks"] = .int(1)
            with["covariate_drift_week"] = .int(firstWeek + drift)
        }
        if let bad = settings.badCandidateWeek { with["corrupt_history_week"] = .int(firstWeek + bad) }
        job.stages[cohort].with = with
        var adjusted = spec
        adjusted.jobs = spec.jobs.map { $0.name == job.name ? job : $0 }
        self.spec = adjusted
        self.settings = settings
        self.workspace = workspace
        self.store = store
        self.clock = clock
        self.log = log
    }

    var startMillis: Int64 { settings.startMillis }

    /// The week of the simulation a time falls in (each runs from the Friday before its Monday fire).
    static func weekIndex(_ millis: Int64, start: Int64) -> Int { Int((millis - start + 3 * day) / (7 * day)) }

    /// Runs the year; `progress` gets each week as it ends.
    public func run(progress: @Sendable (SimulationWeek) -> Void = { _ in }) async throws -> [SimulationWeek] {
        let job = spec.job(named: settings.job)!
        let weekOf: @Sendable (JobSpec, Date) -> [String: SpecValue] = { [firstWeek, startMillis] spec, date in
            guard spec.paramValues["week"] != nil else { return [:] }
            return ["week": .int(firstWeek + Self.weekIndex(Int64(date.timeIntervalSince1970 * 1000), start: startMillis))]
        }
        clock.set(now: startMillis)
        let daemon = SchedulerDaemon(workspace: workspace, spec: spec, store: store, log: log, now: startMillis, paramsForFire: weekOf)
        try await daemon.register()
        await daemon.settleBetweenPhases(true)
        // Week 0: the first model, trained and promoted by hand, scores the first week.
        _ = try await runByHand(job, week: 0, why: "the first model", fire: nil)
        var weeks: [SimulationWeek] = []
        let zone = job.timezone.flatMap(TimeZone.init(identifier:)) ?? .current
        var now = startMillis
        var weekEnd = startMillis + 7 * Self.day - 3 * 3_600_000
        while weeks.count < settings.weeks {
            // The next tick: a minute after the next fire, or a day on, whichever is first.
            let nextFire = job.schedule?.next(after: Date(timeIntervalSince1970: Double(now) / 1000), in: zone)
                .map { Int64($0.timeIntervalSince1970 * 1000) + 60_000 }
            var next = min(nextFire ?? Int64.max, now + Self.day)
            if next > weekEnd {
                weeks.append(try snapshot(week: weeks.count, from: weekEnd - 7 * Self.day, to: weekEnd))
                progress(weeks.last!)
                weekEnd += 7 * Self.day
                next = min(next, weekEnd)
                if weeks.count >= settings.weeks { break }
            }
            now = next
            clock.set(now: now)
            if let bad = settings.badCandidateWeek, let fire = nextFire, now == fire, Self.weekIndex(now, start: startMillis) == bad {
                // This week's run is a retrain by hand, on a feed whose labels are wrong.
                _ = try await runByHand(job, week: bad, why: "a retrain on a corrupted label feed", fire: fire - 60_000)
            }
            await daemon.tick(now: now)
            await daemon.waitIdle()
        }
        await daemon.stop(grace: .zero)
        return weeks
    }

    /// A manual run of the job for `week`, standing for that week's fire when there is one.
    func runByHand(_ job: JobSpec, week: Int, why: String, fire: Int64?) async throws -> JobRunResult {
        var request = RunRequest(job: job.name, params: job.paramValues["week"] != nil ? ["week": .int(firstWeek + week)] : [:],
                                 trigger: .manual, echo: false)
        request.runID = RunRecord.newID()
        request.tags["mlops.simulation"] = why
        if let fire {
            let claim = ScheduleBook.Fire(job: job.name, time: fire, status: .started, runID: request.runID, daemon: "simulation",
                                          detail: "simulation: \(why)")
            _ = try await store.write { tx in try ScheduleBook.claim(tx, claim, now: fire) }
        }
        log("run_started", ["job": job.name, "run": String(request.runID!.prefix(8)), "trigger": "manual", "why": why])
        let result = try await JobRunner(workspace: workspace, spec: spec, store: store).run(request)
        log("run_finished", ["job": job.name, "run": String(request.runID!.prefix(8)), "status": result.run.status.rawValue])
        return result
    }
}

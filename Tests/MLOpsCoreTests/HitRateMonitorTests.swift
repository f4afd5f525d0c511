import Foundation
import Testing
@testable import MLOpsCore

/// The hit-rate monitor on real predictions and outcomes in a real store, on a simulated clock.
@Suite("Hit-rate monitor: significant drops only, insufficient never fine")
struct HitRateMonitorTests {
    static let day: Int64 = 86_400_000

    func setUp() throws -> (TestWorkspace, Store, PredictionLog, Int64) {
        let ws = try TestWorkspace()
        let (store, _) = try ws.registerModel(versions: 1, champion: 1)
        return (ws, store, PredictionLog(store: store), WallClock.process.nowMillis())
    }

    /// `n` contacted predictions of v1 at `time`, hits at `rate`, labels observed a day later.
    func outcomes(_ log: PredictionLog, n: Int, rate: Double, time: Int64, prefix: String) throws {
        let ids = try log.record((0..<n).map { .init(runID: "r", model: "m", version: 1, entity: "\(prefix)\($0)", score: 0.5, time: time) })
        for (i, id) in ids.enumerated() { try log.recordOutcome(.prediction(id), label: Double(i % 20) < rate * 20, observedTime: time + Self.day) }
    }

    func monitor(_ store: Store, baseline: MonitorSpec.Baseline, breaches: Int = 1) -> HitRateMonitor {
        HitRateMonitor(store: store, spec: MonitorSpec(
            name: "hit", model: "m", metric: "hit_rate", baseline: baseline, window: .init(milliseconds: 7 * Self.day), minSamples: 200,
            maxDrop: 0.05, confidence: 0.95, cooldown: .init(milliseconds: 14 * Self.day), breachesToTrigger: breaches, onDropRun: "weekly", location: nil))
    }

    @Test func aDropMustBeSignificantAndRepeatedAndCoolsDown() throws {
        let (ws, store, log, t0) = try setUp()
        defer { ws.remove() }
        let watch = monitor(store, baseline: .value(0.30), breaches: 2)
        try outcomes(log, n: 100, rate: 0.30, time: t0, prefix: "a")
        let few = try watch.evaluate(now: t0 + 2 * Self.day)
        #expect(few.verdict == .insufficient && few.reason.contains("100 mature outcomes"))
        try outcomes(log, n: 900, rate: 0.30, time: t0, prefix: "b")
        #expect(try watch.evaluate(now: t0 + 2 * Self.day).verdict == .fine)
        // A week later the rate has fallen to 0.15: significant, but it takes two evaluations.
        try outcomes(log, n: 1000, rate: 0.15, time: t0 + 8 * Self.day, prefix: "c")
        let first = try watch.evaluate(now: t0 + 10 * Self.day)
        #expect(first.verdict == .dropped && first.breaches == 1 && !first.shouldTrigger)
        // The same outcomes evaluated again are not new evidence: the breach is not counted twice.
        let again = try watch.evaluate(now: t0 + 10 * Self.day + 3_600_000)
        #expect(again.verdict == .dropped && again.breaches == 1 && !again.shouldTrigger && again.reason.contains("not counted again"))
        try outcomes(log, n: 300, rate: 0.15, time: t0 + 9 * Self.day, prefix: "d")
        let second = try watch.evaluate(now: t0 + 11 * Self.day)
        #expect(second.breaches == 2 && second.shouldTrigger)
        try MonitorCycle.recordTrigger(store, monitor: "hit", decision: .init(start: true, reason: "test"), runID: "r", now: t0 + 11 * Self.day)
        try outcomes(log, n: 300, rate: 0.15, time: t0 + 10 * Self.day, prefix: "e")
        let third = try watch.evaluate(now: t0 + 12 * Self.day)
        #expect(third.verdict == .dropped && !third.shouldTrigger && third.reason.contains("cooldown"))
        #expect(try ws.count("SELECT COUNT(*) FROM notifications WHERE event = 'monitor_breach'") == 3)
    }

    /// Two daemons on one store see the same breach: the trigger is a claim, so one of them starts
    /// the retrain and the other is told it lost; after the cooldown a new breach may start one.
    @Test func twoDaemonsSeeingOneBreachStartOneRetrain() throws {
        let (ws, store, log, t0) = try setUp()
        defer { ws.remove() }
        let other = try Store(path: ws.workspace.storePath)
        try outcomes(log, n: 1000, rate: 0.30, time: t0, prefix: "a")
        _ = try monitor(store, baseline: .value(0.30)).evaluate(now: t0 + 2 * Self.day)
        let start = RetrainPolicy.Decision(start: true, reason: "drop")
        let cooldown = SpecDuration(milliseconds: 14 * Self.day)
        let now = t0 + 3 * Self.day
        let first = try MonitorCycle.recordTrigger(store, monitor: "hit", decision: start, runID: "one", now: now, cooldown: cooldown)
        let second = try MonitorCycle.recordTrigger(other, monitor: "hit", decision: start, runID: "two", now: now, cooldown: cooldown)
        #expect(first && !second)
        #expect(try MonitorCycle.lastTriggers(store)["hit"]?.runID == "one")
        #expect(try ws.count("SELECT COUNT(*) FROM audit_log WHERE entity_type = 'monitor' AND action = 'trigger_lost'") == 1)
        #expect(try MonitorCycle.recordTrigger(other, monitor: "hit", decision: start, runID: "three", now: now + 15 * Self.day, cooldown: cooldown))
    }

    @Test func aCUSUMSeesASmallLastingDropThatEachWindowMisses() throws {
        let (ws, store, log, t0) = try setUp()
        defer { ws.remove() }
        let window = monitor(store, baseline: .value(0.30))
        var sequential = monitor(store, baseline: .value(0.30)).spec
        sequential.name = "cusum"
        sequential.method = .cusum
        let cusum = HitRateMonitor(store: store, spec: sequential)
        // Three weeks at 0.25, on the bar: no week's Wilson bound is below it, but the evidence adds up.
        // Each block of 20 outcomes (5 hits first) adds 15·ln(0.75/0.70) − 5·ln(0.30/0.25) ≈ 0.124 once
        // the statistic is off its floor: about 4.6 after the first 600, 8.4 after 1,200, 12.1 after 1,800.
        var verdicts: [(HitRateMonitor.Verdict, HitRateMonitor.Verdict)] = []
        for week in 0..<3 {
            let time = t0 + Int64(week) * 7 * Self.day
            try outcomes(log, n: 600, rate: 0.25, time: time, prefix: "w\(week)-")
            verdicts.append((try window.evaluate(now: time + 2 * Self.day).verdict, try cusum.evaluate(now: time + 2 * Self.day).verdict))
        }
        #expect(verdicts.map(\.0) == [.fine, .fine, .fine])
        #expect(verdicts.map(\.1) == [.fine, .fine, .dropped])
        let last = try #require(HitRateMonitor.lastEvaluations(store)["cusum"])
        #expect(last.shouldTrigger && (last.cusum ?? 0) > Foundation.log(10_000.0) && (last.cusum ?? 0) < 12.5)
    }

    @Test func aSmallDipIsNotADrop() throws {
        let (ws, store, log, t0) = try setUp()
        defer { ws.remove() }
        // 0.25 on 300 outcomes sits on the bar (0.30 − 0.05), but its upper bound (about 0.29) does not: no drop.
        try outcomes(log, n: 300, rate: 0.25, time: t0, prefix: "a")
        let dip = try monitor(store, baseline: .value(0.30)).evaluate(now: t0 + 2 * Self.day)
        #expect(dip.verdict == .fine)
        #expect((dip.bound ?? 0) > 0.25)
    }

    @Test func theDeploymentBaselineAnchorsOnTheFirstWindowAfterPromotion() throws {
        let (ws, store, log, t0) = try setUp()
        defer { ws.remove() }
        let watch = monitor(store, baseline: .deployment)
        try outcomes(log, n: 400, rate: 0.30, time: t0 + Self.day, prefix: "a")
        let early = try watch.evaluate(now: t0 + 3 * Self.day)
        #expect(early.verdict == .insufficient && early.baseline == nil && early.reason.contains("no baseline yet"))
        let anchored = try watch.evaluate(now: t0 + 8 * Self.day)
        #expect(anchored.baseline == 0.30 && anchored.verdict == .fine)
        try outcomes(log, n: 1000, rate: 0.10, time: t0 + 20 * Self.day, prefix: "b")
        let dropped = try watch.evaluate(now: t0 + 22 * Self.day)
        #expect(dropped.baseline == 0.30 && dropped.verdict == .dropped && dropped.shouldTrigger)
    }
}

@Suite("Retrain policy: never stacked, capped, cooled down")
struct RetrainPolicyTests {
    static let day: Int64 = 86_400_000

    @Test func aBreachStartsARetrainOnlyWhenNothingStandsInTheWay() throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let (store, _) = try ws.registerModel(versions: 2, champion: 1)
        var spec = MonitorSpec(name: "hit", model: "m", metric: "hit_rate", baseline: .value(0.3), window: .init(milliseconds: 7 * Self.day),
                               minSamples: 200, maxDrop: 0.05, confidence: 0.95, cooldown: .init(milliseconds: 7 * Self.day),
                               breachesToTrigger: 1, onDropRun: "weekly", location: nil)
        spec.maxRetrains = (2, .init(milliseconds: 30 * Self.day))
        var breach = HitRateMonitor.Evaluation(monitor: "hit", model: "m", version: 1, time: 0)
        (breach.trials, breach.successes, breach.rate, breach.baseline) = (500, 50, 0.1, 0.3)
        (breach.verdict, breach.breaches, breach.shouldTrigger, breach.reason) = (.dropped, 1, true, "hit rate 0.10 below 0.30 − 0.05")
        let now: Int64 = 100 * Self.day
        #expect(try RetrainPolicy.decide(spec, breach, store: store, now: now).start)
        var quiet = breach
        quiet.shouldTrigger = false
        #expect(try !RetrainPolicy.decide(spec, quiet, store: store, now: now).start)

        let tracker = Tracker(store: store)
        let experiment = try tracker.experimentID(named: "weekly")
        func jobRun(_ start: Int64, status: RunStatus, trigger: RunTrigger) throws -> String {
            var run = RunRecord(experimentID: experiment, name: "weekly", status: status, startTime: start, kind: .job)
            run.job = "weekly"
            run.trigger = trigger
            try tracker.create(run)
            return run.id
        }
        // A run of the job is going.
        let going = try jobRun(now - 1000, status: .running, trigger: .schedule)
        #expect(try RetrainPolicy.decide(spec, breach, store: store, now: now).reason == "a run of weekly is already going")
        try store.write { try $0.db.execute(sql: "UPDATE runs SET status = 'FINISHED' WHERE run_uuid = ?", arguments: [going]) }
        // A rollout of the model is in flight.
        _ = try RolloutStore(store: store).create(model: "m", candidate: 2, stable: 1,
                                                  plan: RolloutPlan(DeploySpec(model: "m", strategy: .canary, steps: [.setWeight(10)], keepPreviousFor: nil, onInconclusive: .pause)),
                                                  jobRunID: nil, now: now)
        #expect(try RetrainPolicy.decide(spec, breach, store: store, now: now).reason.contains("rollout of m v2 is in flight"))
        try store.write { try $0.db.execute(sql: "UPDATE rollouts SET state = 'promoted'") }
        // The last retrain was three days ago: cooling down.
        _ = try jobRun(now - 3 * Self.day, status: .finished, trigger: .monitor)
        #expect(try RetrainPolicy.decide(spec, breach, store: store, now: now).reason.contains("less than 7d ago"))
        // Two retrains in 30 days reach the cap even after the cooldown.
        _ = try jobRun(now - 20 * Self.day, status: .finished, trigger: .monitor)
        #expect(try RetrainPolicy.decide(spec, breach, store: store, now: now + 5 * Self.day).reason.contains("max_retrains is 2"))
        #expect(try RetrainPolicy.decide(spec, breach, store: store, now: now + 25 * Self.day).start)
    }
}

@Suite("monitors: max_retrains in jobs.yaml")
struct MaxRetrainsSpecTests {
    @Test func parsesAndChecksMaxRetrains() throws {
        let spec = try SpecParser.parse(text: """
            version: 1
            jobs: { j: { stages: { a: { uses: noop } } } }
            monitors:
              hit: { model: m, metric: hit_rate, on_drop: { run: j }, max_retrains: { count: 4, period: 60d } }
            """, file: "jobs.yaml")
        let cap = try #require(spec.monitors.first?.maxRetrains)
        #expect(cap.count == 4 && cap.period.milliseconds == 60 * 86_400_000)
        let found = diagnostics("""
            version: 1
            jobs: { j: { stages: { a: { uses: noop } } } }
            monitors:
              hit: { model: m, metric: hit_rate, max_retrains: { count: 0, every: 60d } }
            """)
        #expect(found.map(\.path).sorted() == ["monitors.hit.max_retrains.count", "monitors.hit.max_retrains.every"])
    }
}

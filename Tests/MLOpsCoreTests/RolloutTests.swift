import Foundation
import MLOpsLearn
import Testing
@testable import MLOpsCore

/// Persisted rollouts driven by the controller on a simulated clock, with real predictions and
/// outcomes in a real store.
@Suite("Rollouts: canary, blue-green, analysis on mature outcomes, rollback")
struct RolloutTests {
    static let day: Int64 = 86_400_000
    let t0: Int64 = 1_700_000_000_000

    struct Fixture {
        let ws: TestWorkspace
        let store: Store
        let registry: ModelRegistry
        let controller: RolloutController
        let log: PredictionLog
    }

    /// A model with v1 champion and v2 registered.
    func fixture() throws -> Fixture {
        let ws = try TestWorkspace()
        let (store, registry) = try ws.registerModel(versions: 2, champion: 1)
        return Fixture(ws: ws, store: store, registry: registry, controller: RolloutController(store: store), log: PredictionLog(store: store))
    }

    func canary(_ steps: [DeploySpec.Step], onInconclusive: DeploySpec.OnInconclusive = .pause, strategy: DeploySpec.Strategy = .canary,
                keep: SpecDuration? = nil) -> RolloutPlan {
        RolloutPlan(DeploySpec(model: "m", strategy: strategy, steps: steps, keepPreviousFor: keep, onInconclusive: onInconclusive))
    }

    /// `n` contacted predictions routed by the rollout at `time`, with labels observed a week later:
    /// the candidate's hit with probability `candidateRate`, the stable version's with `stableRate`.
    func traffic(_ f: Fixture, _ rollout: Rollout, n: Int, time: Int64, candidateRate: Double, stableRate: Double, prefix: String) throws {
        let current = try #require(try f.controller.rollouts.rollout(rollout.id))
        var entries: [PredictionLog.Entry] = []
        for i in 0..<n {
            let entity = "\(prefix)-\(i)"
            let version = current.version(for: entity)
            entries.append(.init(runID: "r", model: "m", version: version, entity: entity, score: 0.5, time: time, rolloutID: current.id))
        }
        let ids = try f.log.record(entries)
        var counters: [Int: Int] = [:]
        for (entry, id) in zip(entries, ids) {
            let rate = entry.version == current.candidateVersion ? candidateRate : stableRate
            let k = counters[entry.version, default: 0]
            counters[entry.version] = k + 1
            // Deterministic: the first `rate` share of every 20 predictions of an arm are hits.
            try f.log.recordOutcome(.prediction(id), label: Double(k % 20) < rate * 20, observedTime: time + 7 * Self.day)
        }
    }

    func champion(_ f: Fixture) throws -> Int? { try f.registry.aliases("m")["champion"] }

    @Test func aCanaryThatPassesIsPromoted() throws {
        let f = try fixture()
        defer { f.ws.remove() }
        let plan = canary([.setWeight(20), .bake(minDuration: .init(milliseconds: 7 * Self.day), minSamples: 300, maxDuration: .init(milliseconds: 28 * Self.day)),
                           .analysis(metric: "hit_rate", margin: 0.05), .setWeight(50)])
        let rollout = try f.controller.rollouts.create(model: "m", candidate: 2, stable: 1, plan: plan, jobRunID: nil, now: t0)
        try f.controller.advance("m", now: t0)
        var now = try #require(try f.controller.rollouts.inFlight("m"))
        #expect(now.state == .progressing(step: 1) && now.weight == 20)
        #expect(try f.registry.aliases("m") == ["champion": 1, "challenger": 2])
        try traffic(f, rollout, n: 3000, time: t0 + Self.day, candidateRate: 0.30, stableRate: 0.30, prefix: "a")
        // Labels are not mature yet: the bake waits even after its minimum time.
        try f.controller.advance("m", now: t0 + 7 * Self.day)
        #expect(try f.controller.rollouts.inFlight("m")?.state == .progressing(step: 1))
        let made = try f.controller.advance("m", now: t0 + 9 * Self.day)
        #expect(made.map(\.event) == ["step_completed", "analysis_pass", "step_completed"])
        now = try #require(try f.controller.rollouts.latest("m"))
        #expect(now.state == .promoted && now.weight == 100)
        #expect(try champion(f) == 2)
        #expect(try f.registry.aliases("m")["challenger"] == nil)
        let analysis = try #require(now.analysis)
        #expect(analysis.verdict == "pass" && analysis.candidate.trials > 400 && analysis.stable!.trials > 2000)
        // Every transition is an event and an audit row.
        let events = try f.controller.rollouts.events(rollout.id)
        #expect(events.map(\.to_state) == ["pending", "progressing", "progressing", "progressing", "progressing", "promoted"])
        #expect(try f.ws.count("SELECT COUNT(*) FROM audit_log WHERE entity_type = 'rollout'") == events.count)
    }

    @Test func aCanaryThatFailsIsRolledBackAndTagged() throws {
        let f = try fixture()
        defer { f.ws.remove() }
        let plan = canary([.setWeight(30), .bake(minDuration: nil, minSamples: 200, maxDuration: nil), .analysis(metric: "hit_rate", margin: 0.02)])
        let rollout = try f.controller.rollouts.create(model: "m", candidate: 2, stable: 1, plan: plan, jobRunID: nil, now: t0)
        try f.controller.advance("m", now: t0)
        try traffic(f, rollout, n: 4000, time: t0, candidateRate: 0.10, stableRate: 0.30, prefix: "b")
        let made = try f.controller.advance("m", now: t0 + 8 * Self.day)
        #expect(made.map(\.rollout.state.name) == ["progressing", "aborted", "rolled_back"])
        #expect(try champion(f) == 1)
        let version = try f.ws.store().read { tx in
            let db = tx.db
            return try Row.fetchAll(db, sql: "SELECT key, value FROM model_version_tags WHERE name = 'm' AND version = 2")
                .reduce(into: [String: String]()) { $0[$1["key"]] = $1["value"] }
        }
        #expect(version["rollout"] == "rolled_back")
        #expect(version["rollback_reason"]?.contains("worse by more than 0.0200") == true)
        // Rolling back again changes nothing, and writes nothing.
        let auditRows = try f.ws.count("SELECT COUNT(*) FROM audit_log")
        let again = try f.controller.rollback("m", reason: "again", now: t0 + 9 * Self.day)
        #expect(try f.ws.count("SELECT COUNT(*) FROM audit_log") == auditRows)
        #expect(again.map(\.rollout.state.name) == ["rolled_back"])
        #expect(try champion(f) == 1)
    }

    @Test func anInconclusiveCanaryWaitsThenPausesAndNeverPromotesOnATimer() throws {
        let f = try fixture()
        defer { f.ws.remove() }
        let plan = canary([.setWeight(10), .bake(minDuration: .init(milliseconds: Self.day), minSamples: 20, maxDuration: .init(milliseconds: 14 * Self.day)),
                           .analysis(metric: "hit_rate", margin: 0.01)])
        let rollout = try f.controller.rollouts.create(model: "m", candidate: 2, stable: 1, plan: plan, jobRunID: nil, now: t0)
        try f.controller.advance("m", now: t0)
        try traffic(f, rollout, n: 400, time: t0, candidateRate: 0.30, stableRate: 0.30, prefix: "c")
        // Enough samples to end the bake, too few to decide: the analysis keeps waiting.
        let waiting = try f.controller.advance("m", now: t0 + 8 * Self.day)
        #expect(waiting.map(\.event) == ["step_completed"])
        let stored = try #require(try f.controller.rollouts.inFlight("m"))
        #expect(stored.state == .progressing(step: 2) && stored.analysis?.verdict == "insufficient")
        let paused = try f.controller.advance("m", now: t0 + 15 * Self.day)
        #expect(paused.map(\.rollout.state.name) == ["paused"])
        #expect(try f.controller.advance("m", now: t0 + 60 * Self.day).isEmpty)
        #expect(try champion(f) == 1)
        // A person may promote past it.
        let promoted = try f.controller.promote("m", now: t0 + 61 * Self.day)
        #expect(promoted.last?.rollout.state == .promoted)
        #expect(try champion(f) == 2)
    }

    @Test func inconclusiveWithRollbackPolicyRollsBack() throws {
        let f = try fixture()
        defer { f.ws.remove() }
        let plan = canary([.setWeight(10), .bake(minDuration: nil, minSamples: 500, maxDuration: .init(milliseconds: 7 * Self.day))], onInconclusive: .rollback)
        _ = try f.controller.rollouts.create(model: "m", candidate: 2, stable: 1, plan: plan, jobRunID: nil, now: t0)
        try f.controller.advance("m", now: t0)
        let made = try f.controller.advance("m", now: t0 + 7 * Self.day)
        #expect(made.map(\.rollout.state.name) == ["aborted", "rolled_back"])
        #expect(made.last?.detail?.contains("0 of 500 mature outcomes") == true)
    }

    @Test func blueGreenSwitchesKeepsThePreviousAndRollsBackInstantly() throws {
        let f = try fixture()
        defer { f.ws.remove() }
        let plan = canary([], strategy: .blueGreen, keep: .init(milliseconds: 3 * Self.day))
        _ = try f.controller.rollouts.create(model: "m", candidate: 2, stable: 1, plan: plan, jobRunID: nil, now: t0)
        try f.controller.advance("m", now: t0)
        let done = try #require(try f.controller.rollouts.latest("m"))
        #expect(done.state == .promoted && done.weight == 100 && done.version(for: "anyone") == 2)
        #expect(try f.registry.aliases("m") == ["champion": 2, "previous": 1])
        // Within keep_previous_for, a rollback is one alias move.
        let back = try f.controller.rollback("m", reason: "complaints", now: t0 + Self.day)
        #expect(back.map(\.rollout.state.name) == ["rolled_back"])
        #expect(try f.registry.aliases("m") == ["champion": 1])
    }

    @Test func theRegistryRefusesToDeleteOrMoveWhatARolloutHolds() throws {
        let f = try fixture()
        defer { f.ws.remove() }
        let rollout = try f.controller.rollouts.create(model: "m", candidate: 2, stable: 1, plan: canary([.setWeight(20), .pause(duration: nil)]),
                                                       jobRunID: nil, now: t0)
        try f.controller.advance("m", now: t0)
        #expect(try f.registry.aliases("m") == ["champion": 1, "challenger": 2])
        func refused(_ body: () throws -> Void, saying words: [String]) {
            do {
                try body()
                Issue.record("not refused: \(words)")
            } catch {
                let text = "\(error)"
                for word in words { #expect(text.contains(word), "\(text)") }
            }
        }
        refused({ try f.registry.deleteVersion("m", 2, reason: "t") }, saying: ["candidate of rollout", "mlops abort m"])
        refused({ try f.registry.deleteVersion("m", 1, reason: "t") }, saying: ["stable version of rollout", "mlops abort m"])
        refused({ try f.registry.setAlias("m", .champion, to: 2, reason: "t") }, saying: ["cannot move m@champion", "mlops abort m"])
        refused({ try f.registry.removeAlias("m", .challenger, reason: "t") }, saying: ["cannot move m@challenger"])
        refused({ try f.registry.deleteModel("m", reason: "t") }, saying: ["cannot delete model m"])
        refused({ try f.registry.renameModel("m", to: "n") }, saying: ["cannot rename model m"])
        // A user's own alias is theirs to move, audited; the rollout, its aliases and files are intact.
        #expect(try f.registry.setAlias("m", "staging", to: 2, reason: "qa") == nil)
        #expect(try f.registry.aliases("m") == ["champion": 1, "challenger": 2, "staging": 2])
        #expect(try f.controller.rollouts.rollout(rollout.id)?.weight == 20)
        for v in [1, 2] { try f.registry.verify(try f.registry.version("m", v)) }
        // Once the rollout is aborted, the candidate goes, with an audit row for it and its aliases.
        _ = try f.controller.abort("m", reason: "no", now: t0 + Self.day)
        try f.registry.deleteVersion("m", 2, reason: "cleanup")
        #expect(throws: ModelRegistry.RegistryError.self) { try f.registry.version("m", 2) }
        #expect(try f.registry.aliases("m") == ["champion": 1])
        let audit = try f.store.read { tx in
            (try AuditLog.entries(tx, entityType: "model_version", entityID: "m/2"), try AuditLog.entries(tx, entityType: "alias", entityID: "m@staging"))
        }
        #expect(audit.0.last?.action == "delete" && audit.0.last?.detail == "cleanup")
        #expect(audit.1.map(\.action) == ["move", "remove"])
    }

    @Test func blueGreenKeepsThePreviousVersionFromDeletionUntilReleased() throws {
        let f = try fixture()
        defer { f.ws.remove() }
        let plan = canary([], strategy: .blueGreen, keep: .init(milliseconds: 3 * Self.day))
        let rollout = try f.controller.rollouts.create(model: "m", candidate: 2, stable: 1, plan: plan, jobRunID: nil, now: t0)
        try f.controller.advance("m", now: t0)
        #expect(try f.registry.aliases("m") == ["champion": 2, "previous": 1])
        #expect(throws: ModelRegistry.RegistryError.self) { try f.registry.deleteVersion("m", 1, reason: "t") }
        #expect(throws: ModelRegistry.RegistryError.self) { try f.registry.removeAlias("m", .previous, reason: "t") }
        #expect(try f.controller.rollouts.releasePrevious(rollout.id, now: t0 + 4 * Self.day))
        try f.registry.deleteVersion("m", 1, reason: "released")
        #expect(try f.registry.versions("m").map(\.version) == [2])
    }

    @Test func blueGreenPostPromotionAnalysisSwitchesBack() throws {
        let f = try fixture()
        defer { f.ws.remove() }
        // The stable version's record before the switch is the comparison.
        var before: [PredictionLog.Entry] = []
        for i in 0..<2000 { before.append(.init(runID: "r", model: "m", version: 1, entity: "s\(i)", score: 0.5, time: t0 - Self.day)) }
        for (i, id) in try f.log.record(before).enumerated() { try f.log.recordOutcome(.prediction(id), label: i % 10 < 3, observedTime: t0) }
        let plan = canary([.bake(minDuration: nil, minSamples: 500, maxDuration: nil), .analysis(metric: "hit_rate", margin: 0.02)], strategy: .blueGreen,
                          keep: .init(milliseconds: 7 * Self.day))
        let rollout = try f.controller.rollouts.create(model: "m", candidate: 2, stable: 1, plan: plan, jobRunID: nil, now: t0)
        try f.controller.advance("m", now: t0)
        #expect(try f.controller.rollouts.inFlight("m")?.weight == 100)
        try traffic(f, rollout, n: 2000, time: t0 + 1, candidateRate: 0.15, stableRate: 0, prefix: "g")
        let made = try f.controller.advance("m", now: t0 + 8 * Self.day)
        #expect(made.map(\.rollout.state.name) == ["progressing", "aborted", "rolled_back"])
        #expect(try champion(f) == 1)
    }

    @Test func oneRolloutInFlightPerModel() throws {
        let f = try fixture()
        defer { f.ws.remove() }
        _ = try f.registry.register(name: "m", from: f.ws.path("model"), runID: nil)
        _ = try f.controller.rollouts.create(model: "m", candidate: 2, stable: 1, plan: canary([.setWeight(10), .pause(duration: nil)]), jobRunID: nil, now: t0)
        try f.controller.advance("m", now: t0)
        #expect(try f.controller.rollouts.inFlight("m")?.state == .paused(step: 1, reason: "manual gate: `mlops promote` to continue"))
        #expect(throws: RolloutStore.RolloutError.self) {
            try f.controller.rollouts.create(model: "m", candidate: 3, stable: 1, plan: canary([.setWeight(10)]), jobRunID: nil, now: t0)
        }
        try f.controller.abort("m", reason: "superseded by v3", now: t0 + 1)
        _ = try f.controller.rollouts.create(model: "m", candidate: 3, stable: 1, plan: canary([.setWeight(10)]), jobRunID: nil, now: t0 + 2)
        #expect(throws: RolloutStore.RolloutError.self) { try f.controller.promote("m", now: t0 + 3) }
    }

    @Test func routingIsStickyAndFollowsTheWeight() {
        let entities = (0..<20_000).map { "customer-\($0)" }
        let at10 = Set(entities.filter { StickyRouting.takesCandidate($0, salt: "r1", weight: 10) })
        let at50 = Set(entities.filter { StickyRouting.takesCandidate($0, salt: "r1", weight: 50) })
        #expect(abs(Double(at10.count) / 20_000 - 0.10) < 0.01)
        #expect(abs(Double(at50.count) / 20_000 - 0.50) < 0.015)
        #expect(at10.isSubset(of: at50))
        #expect(entities.allSatisfy { StickyRouting.bucket($0, salt: "r1") == StickyRouting.bucket($0, salt: "r1") })
        let otherRollout = Set(entities.filter { StickyRouting.takesCandidate($0, salt: "r2", weight: 10) })
        #expect(otherRollout.intersection(at10).count < at10.count / 4)
    }
}

@Suite("The weekly job under a canary: deploy, split scoring, refusals, failed gates")
struct CanaryJobTests {
    @Test func theWeeklyJobRollsOutSplitsScoringAndTagsFailures() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              weekly:
                params: { week: 8, min_auc: 0.5 }
                stages:
                  ingest: { uses: synthetic-cohort, with: { customers: 2000, week: "${params.week}", history_weeks: 3 } }
                  train: { needs: [ingest], uses: logistic-regression }
                  evaluate: { needs: [train], uses: evaluate, with: { top_k: 100, champion: p } }
                  gate: { needs: [evaluate], uses: gate, with: { rules: [ { metric: auc, min: "${params.min_auc}" } ] } }
                  deploy:
                    needs: [gate]
                    uses: deploy
                    with: { model: p, strategy: canary, steps: [ { set_weight: 30 }, { bake: { min_samples: 100 } }, { analysis: hit_rate } ] }
                  score: { needs: [deploy], uses: score, with: { model: p, top_k: 200 } }
            """)
        defer { ws.remove() }
        #expect(try await ws.run("weekly").run.status == .finished)
        let store = try ws.store()
        let rollouts = RolloutStore(store: store)
        // The first version has nothing to be compared with.
        #expect(try rollouts.latest("p")?.state == .promoted)
        #expect(try await ws.run("weekly", RunRequest(job: "weekly", params: ["week": .int(9)])).run.status == .finished)
        let canary = try #require(try rollouts.inFlight("p"))
        #expect(canary.candidateVersion == 2 && canary.weight == 30)
        // The second week's base is split by sticky hash, and each arm contacts its share.
        let split = try store.read { tx in
            let db = tx.db
            return try Row.fetchAll(db, sql: "SELECT model_version, COUNT(*) AS n, SUM(contacted) AS c FROM predictions WHERE rollout_id = ? GROUP BY model_version ORDER BY model_version",
                             arguments: [canary.id]).map { ($0["model_version"] as Int, $0["n"] as Int, $0["c"] as Int) }
        }
        #expect(split.map(\.0) == [1, 2])
        #expect(abs(Double(split[1].1) / 2000 - 0.3) < 0.04)
        #expect(abs(split[0].2 + split[1].2 - 200) <= 1)
        for (entity, version) in try store.read({ tx in
            try Row.fetchAll(tx.db, sql: "SELECT entity_id, model_version FROM predictions WHERE rollout_id = ?", arguments: [canary.id])
                .map { ($0["entity_id"] as String, $0["model_version"] as Int) }
        }) {
            #expect(canary.version(for: entity) == version)
        }
        // A third candidate while the canary is in flight is registered, tagged and left alone.
        #expect(try await ws.run("weekly", RunRequest(job: "weekly", params: ["week": .int(10)])).run.status == .finished)
        #expect(try rollouts.inFlight("p")?.candidateVersion == 2)
        #expect(try ws.count("SELECT COUNT(*) FROM model_version_tags WHERE version = 3 AND key = 'deploy' AND value = 'refused'") == 1)
        // A failed gate tags its candidate, and deploy never runs.
        let failed = try await ws.run("weekly", RunRequest(job: "weekly", params: ["week": .int(10), "min_auc": .double(0.99)]))
        #expect(failed.run.status == .failed)
        #expect(failed.stages.first { $0.name == "deploy" }?.outcome == .skipped)
        let tags = try store.read { tx in
            let db = tx.db
            return try Row.fetchAll(db, sql: "SELECT key, value FROM model_version_tags WHERE version = 4").reduce(into: [String: String]()) { $0[$1["key"]] = $1["value"] }
        }
        #expect(tags["gate"] == "failed")
        #expect(tags["gate_reason"]?.hasPrefix("gate failed: auc") == true)
    }
}

@Suite("The weekly job closes its own loop: outcomes from the cohort's labels")
struct OutcomesStageTests {
    @Test func labelsThatBecomeKnownAttachToTheirPredictions() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              weekly:
                params: { week: 6 }
                stages:
                  ingest: { uses: synthetic-cohort, with: { customers: 400, week: "${params.week}", history_weeks: 3, label_delay_weeks: 2 } }
                  outcomes: { needs: [ingest], uses: outcomes, with: { model: p } }
                  train: { needs: [ingest], uses: logistic-regression }
                  deploy: { needs: [train], uses: deploy, with: { model: p } }
                  score: { needs: [deploy, outcomes], uses: score, with: { model: p, top_k: 40 } }
            """)
        defer { ws.remove() }
        #expect(try await ws.run("weekly").run.status == .finished)
        #expect(try ws.count("SELECT COUNT(*) FROM outcomes") == 0)
        // Week 7 knows labels up to week 5: still none for week 6's predictions.
        #expect(try await ws.run("weekly", RunRequest(job: "weekly", params: ["week": .int(7)])).run.status == .finished)
        #expect(try ws.count("SELECT COUNT(*) FROM outcomes") == 0)
        // Week 8 knows week 6: each of its 400 predictions gets the cohort's label.
        let week8 = try await ws.run("weekly", RunRequest(job: "weekly", params: ["week": .int(8)]))
        #expect(week8.run.status == .finished)
        #expect(try ws.count("SELECT COUNT(*) FROM outcomes o JOIN predictions p ON p.id = o.prediction_id WHERE p.period = 6") == 400)
        #expect(try ws.count("SELECT COUNT(*) FROM outcomes o JOIN predictions p ON p.id = o.prediction_id WHERE p.period <> 6") == 0)
        let history = try #require(week8.stages.first { $0.name == "ingest" }?.runID)
        let folder = try #require(try Tracker(store: try ws.store()).run(history)?.artifactURI)
        let table = try TableCSV.read(try Data(contentsOf: URL(fileURLWithPath: folder + "/history.csv")))
        let weeks = try #require(table.numeric("week")), bought = try #require(table.numeric("bought"))
        let positives = weeks.indices.filter { weeks[$0] == 6 && bought[$0] == 1 }.count
        #expect(try ws.count("SELECT SUM(o.label) FROM outcomes o JOIN predictions p ON p.id = o.prediction_id WHERE p.period = 6") == positives)
        // Known labels are not recorded twice.
        #expect(try await ws.run("weekly", RunRequest(job: "weekly", params: ["week": .int(8)])).run.status == .finished)
        #expect(try ws.count("SELECT COUNT(*) FROM outcomes") == 400)
    }
}

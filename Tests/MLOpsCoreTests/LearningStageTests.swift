import Foundation
import MLOpsLearn
import Testing
@testable import MLOpsCore

@Suite("Built-in learning stages, run by the real runner in a temporary workspace")
struct LearningStageTests {
    @Test func ingestTrainEvaluateRecordTheirMetrics() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              weekly:
                stages:
                  ingest: { uses: synthetic-cohort, with: { customers: 1500, week: 8, history_weeks: 4, label_delay_weeks: 2 } }
                  train: { needs: [ingest], uses: logistic-regression, with: { l2: 1.0 } }
                  evaluate: { needs: [train], uses: evaluate, with: { top_k: 100 } }
            """)
        defer { ws.remove() }
        let result = try await ws.run("weekly")
        #expect(result.run.status == .finished, "\(result.stages)")
        let tracker = Tracker(store: try ws.store())
        let metrics = Dictionary(uniqueKeysWithValues: try tracker.latestMetrics(of: result.run.id).map { ($0.key, $0.value) })
        #expect(metrics["history_rows"] == 6000)
        #expect(metrics["train_rows"] == 4500)
        #expect(metrics["eval_rows"] == 1500)
        #expect(metrics["converged"] == 1)
        #expect((metrics["auc"] ?? 0) > 0.7)
        for key in ["log_loss", "brier", "precision", "recall", "f1", "hit_rate_at_k", "lift_at_k", "ece", "base_rate"] {
            #expect(metrics[key] != nil, "missing \(key)")
        }
        let params = try tracker.params(of: result.run.id)
        #expect(params["holdout_week"] == "6" && params["train_weeks"] == "3,4,5" && params["eval_on"] == "week 6")
        // The model is a versioned JSON document with what monitoring needs later.
        let train = try #require(result.stages.first { $0.name == "train" }?.runID)
        let folder = try #require(try tracker.run(train)?.artifactURI)
        let model = try ModelArtifact.load(try Data(contentsOf: URL(fileURLWithPath: folder + "/model.json")), source: "model.json")
        #expect(model.formatVersion == 1 && model.label == "bought")
        #expect(model.training.quantiles["age"]?.count == 11)
        #expect(model.training.frequencies["channel"]?.keys.sorted() == ["app", "branch", "web"])
        #expect(model.featureNames.contains("region=<unseen>"))
    }

    @Test func aGatePassesOrFailsWithItsReasons() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              j:
                params: { min_auc: 0.6 }
                stages:
                  ingest: { uses: synthetic-cohort, with: { customers: 800, week: 6, history_weeks: 3 } }
                  train: { needs: [ingest], uses: logistic-regression }
                  evaluate: { needs: [train], uses: evaluate, with: { top_k: 50 } }
                  gate: { needs: [evaluate], uses: gate, with: { rules: [ { metric: auc, min: "${params.min_auc}" }, { metric: ece, max: 0.5 } ] } }
                  deploy: { needs: [gate], uses: noop }
            """)
        defer { ws.remove() }
        let passed = try await ws.run("j")
        #expect(passed.run.status == .finished, "\(passed.stages)")
        let gateRun = try #require(passed.stages.first { $0.name == "gate" }?.runID)
        #expect(try Tracker(store: try ws.store()).params(of: gateRun)["rule_1"]?.hasSuffix("(min 0.6): pass") == true)

        let failed = try await ws.run("j", RunRequest(job: "j", params: ["min_auc": .double(0.99)]))
        #expect(failed.run.status == .failed)
        let message = try #require(failed.stages.first { $0.name == "gate" }?.message)
        #expect(message.hasPrefix("gate failed: auc 0.") && message.hasSuffix(" < min 0.99"))
        #expect(failed.stages.first { $0.name == "deploy" }?.outcome == .skipped)
    }

    @Test func deployRegistersAndPromotesScoreRecordsEveryPrediction() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              weekly:
                params: { week: 6 }
                stages:
                  ingest: { uses: synthetic-cohort, with: { customers: 1000, week: "${params.week}", history_weeks: 3 } }
                  train: { needs: [ingest], uses: logistic-regression }
                  deploy: { needs: [train], uses: deploy, with: { model: propensity, strategy: replace } }
                  score: { needs: [deploy], uses: score, with: { model: propensity, top_k: 100, holdout: 0.1 } }
            """)
        defer { ws.remove() }
        let first = try await ws.run("weekly")
        #expect(first.run.status == .finished, "\(first.stages)")
        let second = try await ws.run("weekly", RunRequest(job: "weekly", params: ["week": .int(7)]))
        #expect(second.run.status == .finished, "\(second.stages)")
        let registry = ModelRegistry(store: try ws.store(), directory: ws.workspace.registryDirectory)
        #expect(try registry.aliases("propensity") == ["champion": 2])
        let v2 = try registry.version("propensity", 2)
        #expect(v2.sourceRunID == second.stages.first { $0.name == "train" }?.runID)
        #expect(try registry.aliasHistory("propensity").map(\.entry.from_state) == [nil, "1"])

        let rows = try ws.count("SELECT COUNT(*) FROM predictions WHERE model_version = 2 AND period = 7")
        let contacted = try ws.count("SELECT SUM(contacted) FROM predictions WHERE model_version = 2")
        let held = try ws.count("SELECT SUM(holdout) FROM predictions WHERE model_version = 2")
        let both = try ws.count("SELECT COUNT(*) FROM predictions WHERE contacted = 1 AND holdout = 1")
        #expect(rows == 1000 && contacted == 100 && both == 0)
        #expect((60...140).contains(held), "holdout \(held) of 1000 at 10%")
        // The contacted are the highest scores outside the holdout.
        let lowestContacted = try ws.double("SELECT MIN(score) FROM predictions WHERE model_version = 2 AND contacted = 1") ?? 0
        let highestSkipped = try ws.double("SELECT MAX(score) FROM predictions WHERE model_version = 2 AND contacted = 0 AND holdout = 0") ?? 1
        #expect(lowestContacted >= highestSkipped)
        let score = try #require(second.stages.first { $0.name == "score" }?.runID)
        let folder = try #require(try Tracker(store: try ws.store()).run(score)?.artifactURI)
        #expect(try String(contentsOfFile: folder + "/predictions.csv", encoding: .utf8).hasPrefix("entity_id,period,score,contacted,holdout,model_version\n"))
    }

    @Test func scoringRefusesADamagedModel() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              weekly:
                stages:
                  ingest: { uses: synthetic-cohort, with: { customers: 300, week: 5, history_weeks: 2 } }
                  train: { needs: [ingest], uses: logistic-regression }
                  deploy: { needs: [train], uses: deploy, with: { model: propensity } }
              score-only:
                stages:
                  ingest: { uses: synthetic-cohort, with: { customers: 300, week: 6, history_weeks: 2 } }
                  score: { needs: [ingest], uses: score, with: { model: propensity } }
            """)
        defer { ws.remove() }
        #expect(try await ws.run("weekly").run.status == .finished)
        try "{}".write(toFile: ws.workspace.registryDirectory + "/propensity/1/model.json", atomically: true, encoding: .utf8)
        let result = try await ws.run("score-only")
        #expect(result.stages.first { $0.name == "score" }?.message?.contains("changed after registration") == true)
    }

    @Test func deployStrategiesAreCheckedAtValidation() {
        #expect(diagnostics("""
            version: 1
            jobs:
              j:
                stages:
                  d: { uses: deploy, with: { model: p, strategy: canary, steps: [ { set_weight: 10 }, { analysis: { metric: hit_rate, margin: 0.01 } } ] } }
            """).isEmpty)
        let found = diagnostics("""
            version: 1
            jobs:
              j:
                stages:
                  a: { uses: deploy, with: { model: p, strategy: blue_green, steps: [ { set_weight: 10 } ] } }
                  b: { uses: deploy, with: { model: p, strategy: canary, steps: [ { analysis: auc } ], in_flight: queue } }
            """)
        #expect(found.map(\.path) == ["jobs.j.stages.a.with.steps", "jobs.j.stages.b.with.steps[0].analysis", "jobs.j.stages.b.with.in_flight"])
        #expect(found.first?.message.contains("blue-green switches all traffic at once") == true)
    }

    @Test func evaluateOnAGivenTable() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              j:
                stages:
                  ingest: { uses: csv, with: { path: train.csv } }
                  train: { needs: [ingest], uses: logistic-regression, with: { holdout: none } }
                  evaluate: { needs: [train], uses: evaluate, with: { path: test.csv, top_k: 2 } }
            """)
        defer { ws.remove() }
        try ws.write("train.csv", "x,bought\n-2,0\n-1,0\n0,1\n1,0\n2,1\n3,1\n")
        try ws.write("test.csv", "x,bought\n-3,0\n4,1\n0,0\n5,1\n")
        let result = try await ws.run("j")
        #expect(result.run.status == .finished, "\(result.stages)")
        let tracker = Tracker(store: try ws.store())
        let evaluate = try #require(result.stages.first { $0.name == "evaluate" }?.runID)
        #expect(try tracker.params(of: evaluate)["eval_on"] == "test.csv")
        let metrics = Dictionary(uniqueKeysWithValues: try tracker.latestMetrics(of: evaluate).map { ($0.key, $0.value) })
        #expect(metrics["eval_rows"] == 4)
        #expect(metrics["auc"] == 1)          // x separates the test rows perfectly
        #expect(metrics["hit_rate_at_k"] == 1) // the top two are the buyers
    }

    @Test func aGateComparesTheCandidateWithTheChampionOnTheSameRows() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              weekly:
                params: { week: 6, features: [age, income, tenure_months, products, days_since_purchase, web_visits, channel, region] }
                stages:
                  ingest: { uses: synthetic-cohort, with: { customers: 3000, week: "${params.week}", history_weeks: 3 } }
                  train: { needs: [ingest], uses: logistic-regression, with: { features: "${params.features}" } }
                  evaluate: { needs: [train], uses: evaluate, with: { top_k: 1000, champion: propensity } }
                  gate:
                    needs: [evaluate]
                    uses: gate
                    with:
                      rules:
                        - { metric: auc, vs: champion, max_drop: 0.02 }
                        - { metric: auc, vs: champion, max_drop: 0.05, test: delong, alpha: 0.05 }
                        - { metric: hit_rate_at_k, vs: champion, max_drop: 0.10, test: two_proportion }
                  deploy: { needs: [gate], uses: deploy, with: { model: propensity } }
            """)
        defer { ws.remove() }
        let tracker = Tracker(store: try ws.store())
        func gateParams(_ result: JobRunResult) throws -> [String: String] {
            try tracker.params(of: try #require(result.stages.first { $0.name == "gate" }?.runID))
        }
        let first = try await ws.run("weekly")
        #expect(first.run.status == .finished, "\(first.stages)")
        #expect(try gateParams(first)["rule_1"] == "auc vs champion: no champion yet, so the relative rule passes: pass")

        let second = try await ws.run("weekly", RunRequest(job: "weekly", params: ["week": .int(7)]))
        #expect(second.run.status == .finished, "\(second.stages)")
        let rules = try gateParams(second)
        #expect(rules["rule_1"]?.contains("vs champion v1") == true)
        #expect(rules["rule_2"]?.contains("DeLong") == true && rules["rule_2"]?.hasSuffix(": pass") == true)
        #expect(rules["rule_3"]?.hasSuffix(": pass") == true, "\(rules)")
        let evaluate = try #require(second.stages.first { $0.name == "evaluate" }?.runID)
        #expect(try tracker.latestMetrics(of: evaluate).contains { $0.key == "champion_auc" })

        // A much weaker candidate (one feature) against champion v2: the gate fails and says why.
        let weak = try await ws.run("weekly", RunRequest(job: "weekly", params: ["week": .int(8), "features": .list([.string("region")])]))
        #expect(weak.run.status == .failed)
        let message = try #require(weak.stages.first { $0.name == "gate" }?.message)
        #expect(message.hasPrefix("gate failed: auc 0."))
        #expect(message.contains("vs champion v2"))
        #expect(message.contains("dropped more than 0.02"))
        #expect(message.contains("worse by more than 0.0500"))
        #expect(weak.stages.first { $0.name == "deploy" }?.outcome == .skipped)
        #expect(try ModelRegistry(store: try ws.store(), directory: ws.workspace.registryDirectory).aliases("propensity") == ["champion": 2])
    }

    @Test func aRelativeRuleWithoutAChampionComparisonIsRefused() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              j:
                stages:
                  ingest: { uses: synthetic-cohort, with: { customers: 300, week: 5, history_weeks: 2 } }
                  train: { needs: [ingest], uses: logistic-regression }
                  evaluate: { needs: [train], uses: evaluate }
                  gate: { needs: [evaluate], uses: gate, with: { rules: [ { metric: auc, vs: champion, max_drop: 0.01 } ] } }
            """)
        defer { ws.remove() }
        let result = try await ws.run("j")
        #expect(result.stages.first { $0.name == "gate" }?.message == "gate: `vs: champion` needs an upstream evaluate stage with `champion: MODEL`")
    }

    @Test func aTrainingWindowKeepsTheLastWeeksOnly() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              w:
                stages:
                  ingest: { uses: synthetic-cohort, with: { customers: 500, week: 10, history_weeks: 6 } }
                  train: { needs: [ingest], uses: logistic-regression, with: { window_weeks: 2 } }
            """)
        defer { ws.remove() }
        let result = try await ws.run("w")
        #expect(result.run.status == .finished)
        #expect(try Tracker(store: try ws.store()).params(of: result.run.id)["train_weeks"] == "6,7")
    }

    @Test func sinceChampionTrainsOnWeeksTheChampionNeverSaw() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              weekly:
                params: { week: 8 }
                stages:
                  ingest: { uses: synthetic-cohort, with: { customers: 400, week: "${params.week}", history_weeks: 5 } }
                  train: { needs: [ingest], uses: logistic-regression, with: { window: since_champion, model: propensity } }
                  deploy: { needs: [train], uses: deploy, with: { model: propensity } }
            """)
        defer { ws.remove() }
        let first = try await ws.run("weekly")
        #expect(try Tracker(store: try ws.store()).params(of: first.run.id)["train_weeks"] == "2,3,4,5")
        let later = try await ws.run("weekly", RunRequest(job: "weekly", params: ["week": .int(11)]))
        #expect(later.run.status == .finished, "\(later.stages)")
        // History 5…9, week 9 held out; the champion saw up to week 5.
        #expect(try Tracker(store: try ws.store()).params(of: later.run.id)["train_weeks"] == "6,7,8")
    }

    @Test func csvIngestReportsTheLineOfABadValue() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              mine:
                stages:
                  ingest: { uses: csv, with: { path: data.csv, types: { x: numeric } } }
                  train: { needs: [ingest], uses: logistic-regression }
            """)
        defer { ws.remove() }
        try ws.write("data.csv", "x,c,bought\n1,a,0\n2,b,1\nthree,a,0\n")
        let result = try await ws.run("mine")
        #expect(result.run.status == .failed)
        let message = try #require(result.stages.first { $0.name == "ingest" }?.message)
        #expect(message.hasSuffix("data.csv: line 4, column 'x': 'three' is not a number"))
        #expect(result.stages.first { $0.name == "train" }?.outcome == .skipped)

        try ws.write("data.csv", "x,c\n1,a\n")
        let noLabel = try await ws.run("mine")
        #expect(noLabel.stages.first { $0.name == "ingest" }?.message?.contains("column 'bought': the required column is missing") == true)
    }

    @Test func trainingWithoutAnUpstreamTableSaysWhatItNeeds() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              j:
                stages:
                  train: { uses: logistic-regression }
            """)
        defer { ws.remove() }
        let result = try await ws.run("j")
        #expect(result.stages.first?.message == "train needs history.csv from an upstream stage (synthetic-cohort or csv); its needs give none")
    }

    @Test func aMetricThatIsNotANumberIsRecordedAsNaN() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              j:
                stages:
                  ingest: { uses: csv, with: { path: data.csv } }
                  train: { needs: [ingest], uses: logistic-regression, with: { holdout: none } }
                  evaluate: { needs: [train], uses: evaluate }
            """)
        defer { ws.remove() }
        // Two weeks; the evaluated week (the latest) has no buyer, so its AUC is undefined.
        try ws.write("data.csv", "week,x,bought\n1,1,0\n1,2,1\n1,3,0\n1,4,1\n2,1,0\n2,2,0\n")
        try ws.write("jobs.yaml", try String(contentsOfFile: ws.workspace.specPath, encoding: .utf8)
            .replacingOccurrences(of: "holdout: none", with: "holdout: latest_week"))
        let result = try await ws.run("j")
        #expect(result.run.status == .finished, "\(result.stages)")
        let auc = try Tracker(store: try ws.store()).latestMetrics(of: result.run.id).first { $0.key == "auc" }
        #expect(auc?.value.isNaN == true)
    }

    @Test func unknownSettingsAreCaughtByValidate() {
        let found = diagnostics("""
            version: 1
            jobs:
              j:
                stages:
                  ingest: { uses: synthetic-cohort, with: { customer: 10 } }
            """)
        #expect(found.first?.message == "unknown key 'customer'")
        #expect(found.first?.hint == "did you mean 'customers'?")
    }
}

import Foundation
import Testing
@testable import MLOpsCore

@Suite("shards: a stage's copies side by side")
struct ShardTests {
    @Test func eachCopyKnowsItsIndexIsItsOwnRunAndTheNextStageSeesThemAll() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              j:
                stages:
                  split: { shell: true, shards: 3, run: 'echo "$MLOPS_SHARD_INDEX of $MLOPS_SHARD_COUNT" > "$MLOPS_ARTIFACTS/part.txt"' }
                  join: { shell: true, needs: [split], run: 'cat "$MLOPS_INPUT_SPLIT"/*/part.txt > "$MLOPS_ARTIFACTS/all.txt"' }
            """)
        defer { ws.remove() }
        let result = try await ws.run("j")
        #expect(result.run.status == .finished, "\(result.stages)")
        let children = try Tracker(store: try ws.store()).children(of: result.run.id)
        #expect(Set(children.compactMap(\.name)) == ["split[0/3]", "split[1/3]", "split[2/3]", "join"])
        #expect(children.filter { $0.stage == "split" }.allSatisfy { $0.outcome == .succeeded })
        let join = try #require(children.first { $0.stage == "join" }?.artifactURI)
        #expect(try String(contentsOfFile: join + "/all.txt", encoding: .utf8) == "0 of 3\n1 of 3\n2 of 3\n")
    }

    @Test func oneFailedCopyFailsTheStageAndSaysWhich() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              j:
                stages:
                  split: { shell: true, shards: 4, run: 'test "$MLOPS_SHARD_INDEX" != 2' }
                  after: { needs: [split], run: "true" }
            """)
        defer { ws.remove() }
        let result = try await ws.run("j")
        #expect(result.run.status == .failed)
        let split = try #require(result.stages.first { $0.name == "split" })
        #expect(split.message == "shard 2/4: exit code 1")
        #expect(result.stages.first { $0.name == "after" }?.outcome == .skipped)
        // A rerun of what failed runs the sharded stage whole again, not three copies reused and one new.
        let rerun = try await ws.run("j", RunRequest(job: "j", rerunOf: result.run.id, onlyFailed: true))
        #expect(try Tracker(store: try ws.store()).children(of: rerun.run.id).filter { $0.stage == "split" }.count == 4)
    }

    @Test func shardedScoringStoresEveryPredictionOnceAndContactsTopK() async throws {
        let ws = try TestWorkspace("""
            version: 1
            jobs:
              weekly:
                stages:
                  ingest: { uses: synthetic-cohort, with: { customers: 1000, week: 6, history_weeks: 3 } }
                  train: { needs: [ingest], uses: logistic-regression }
                  deploy: { needs: [train], uses: deploy, with: { model: propensity, strategy: replace } }
                  score: { needs: [deploy], uses: score, shards: 4, with: { model: propensity, top_k: 100, holdout: 0.1 } }
            """)
        defer { ws.remove() }
        let result = try await ws.run("weekly")
        #expect(result.run.status == .finished, "\(result.stages)")
        #expect(try ws.count("SELECT COUNT(*) FROM predictions") == 1000)
        #expect(try ws.count("SELECT COUNT(DISTINCT entity_id) FROM predictions") == 1000)
        #expect(try ws.count("SELECT COUNT(DISTINCT run_uuid) FROM predictions") == 4)
        let contacted = try ws.count("SELECT SUM(contacted) FROM predictions")
        #expect((97...103).contains(contacted), "each shard its share of top_k: \(contacted)")
        #expect(try ws.count("SELECT COUNT(*) FROM predictions WHERE contacted = 1 AND holdout = 1") == 0)
        #expect(try ws.count("SELECT COUNT(*) FROM feature_drift") > 0)
    }
}

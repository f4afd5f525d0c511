import Foundation
import Testing

/// `mlops rollouts`, `promote`, `rollback` and `abort` as a user runs them.
@Suite("Rollout commands")
struct RolloutCommandTests {
    static let spec = """
        version: 1
        jobs:
          weekly:
            params: { week: 8 }
            stages:
              ingest: { uses: synthetic-cohort, with: { customers: 600, week: "${params.week}", history_weeks: 2 } }
              train: { needs: [ingest], uses: logistic-regression }
              deploy:
                needs: [train]
                uses: deploy
                with: { model: p, strategy: canary, steps: [ { set_weight: 25 }, { pause: {} }, { set_weight: 75 }, { pause: {} } ] }
        """

    @Test func promoteRollbackAndAbortWithTheirExitCodes() throws {
        let cli = try MLOpsBinary(Self.spec)
        defer { cli.remove() }
        #expect(try cli.run(["rollouts"]).stdout.contains("no rollouts yet"))
        #expect(try cli.run(["run", "weekly", "-q"]).status == 0)
        #expect(try cli.run(["run", "weekly", "--param", "week=9", "-q"]).status == 0)
        let list = try #require(try cli.json(["rollouts"]) as? [[String: Any]])
        #expect(list.first?["state"] as? String == "paused" && list.first?["weight"] as? Int == 25)
        let table = try cli.run(["rollouts"]).stdout
        #expect(table.contains("MODEL") && table.contains("paused") && table.contains("25%"))
        // Released once: on to the next pause at 75%.
        let promoted = try cli.run(["promote", "p"])
        #expect(promoted.status == 0 && promoted.stdout.contains("paused → progressing"))
        #expect((try cli.json(["rollouts", "show", "p"]) as? [String: Any])?["weight"] as? Int == 75)
        // Abort puts v1 back; a second abort is refused (exit 3); rollback is idempotent (exit 0).
        let abort = try cli.run(["abort", "p", "--reason", "not today"])
        #expect(abort.status == 0 && abort.stdout.contains("rolled_back"))
        let again = try cli.run(["abort", "p"])
        #expect(again.status == 3 && again.stderr.contains("no rollout in flight"))
        let rollback = try cli.run(["rollback", "p"])
        #expect(rollback.status == 0 && rollback.stdout.contains("already rolled back"))
        let models = try #require(try cli.json(["models"]) as? [[String: Any]])
        #expect((models.first?["aliases"] as? [String: Int]) == ["champion": 1])
        let show = try #require(try cli.json(["rollouts", "show", "p"]) as? [String: Any])
        let history = try #require(show["history"] as? [[String: Any]])
        #expect(history.compactMap { $0["event"] as? String } == ["create", "start", "step_completed", "step_completed", "promote", "step_completed", "step_completed", "abort", "rollback"])
        #expect(show["reason"] as? String == "not today")
        // --to names the version to put back, whatever the rollout compared.
        #expect(try cli.run(["rollback", "p", "--to", "2"]).status == 0)
        #expect(((try cli.json(["models"]) as? [[String: Any]])?.first?["aliases"] as? [String: Int]) == ["champion": 2])
        #expect(try cli.run(["rollouts", "show", "nope"]).status == 2)
    }
}

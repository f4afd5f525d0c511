import MLOpsLearn
import Testing
@testable import MLOpsCore

@Suite("The rollout state machine: every transition and every refusal")
struct RolloutMachineTests {
    let canary = RolloutMachine(steps: [
        .setWeight(10), .bake(minDuration: .seconds(7 * 86_400), minSamples: 400, maxDuration: .seconds(28 * 86_400)),
        .analysis(metric: "hit_rate"), .setWeight(50), .pause(duration: nil), .analysis(metric: "hit_rate"),
    ])

    @Test func aCanaryThatPassesIsPromotedStepByStep() throws {
        var state = try canary.next(.pending, .start)
        #expect(state == .progressing(step: 0) && canary.weight(state) == 10)
        state = try canary.next(state, .stepCompleted)      // weight set
        state = try canary.next(state, .stepCompleted)      // bake done
        #expect(state == .progressing(step: 2))
        state = try canary.next(state, .analysis(.pass, reason: "ok", bakeExpired: false))
        #expect(state == .progressing(step: 3))
        state = try canary.next(state, .stepCompleted)
        #expect(canary.weight(state) == 50)
        state = try canary.next(state, .stepCompleted)      // reaches the manual gate
        #expect(state == .paused(step: 4, reason: "manual gate: `mlops promote` to continue"))
        #expect(canary.weight(state) == 50)
        state = try canary.next(state, .promote)
        state = try canary.next(state, .analysis(.pass, reason: "ok", bakeExpired: true))
        #expect(state == .promoted && canary.weight(state) == 100)
    }

    @Test func aFailedAnalysisAbortsAndRollsBack() throws {
        var state: RolloutState = .progressing(step: 2)
        state = try canary.next(state, .analysis(.fail, reason: "hit rate 0.12 < 0.18", bakeExpired: false))
        #expect(state == .aborted(reason: "analysis failed: hit rate 0.12 < 0.18") && canary.weight(state) == 0)
        state = try canary.next(state, .rollback(reason: "automatic"))
        #expect(state == .rolledBack(reason: "automatic"))
        // Rollback is idempotent.
        #expect(try canary.next(state, .rollback(reason: "again")) == state)
    }

    @Test func insufficientDataExtendsTheBakeThenPausesNeverPasses() throws {
        var state: RolloutState = .progressing(step: 2)
        state = try canary.next(state, .analysis(.insufficient, reason: "120 outcomes", bakeExpired: false))
        #expect(state == .progressing(step: 2))
        state = try canary.next(state, .analysis(.insufficient, reason: "300 outcomes", bakeExpired: true))
        #expect(state == .paused(step: 2, reason: "analysis inconclusive at max_duration: 300 outcomes"))
        let strict = RolloutMachine(steps: canary.steps, onInconclusive: .rollback)
        #expect(try strict.next(.progressing(step: 2), .analysis(.insufficient, reason: "few", bakeExpired: true))
                == .aborted(reason: "analysis inconclusive at max_duration: few"))
    }

    @Test func refusals() throws {
        #expect(throws: RolloutRefusal(description: "step 3 is an analysis; it ends with a verdict, not by itself")) {
            try canary.next(.progressing(step: 2), .stepCompleted)
        }
        #expect(throws: RolloutRefusal(description: "step 1 is not an analysis")) {
            try canary.next(.progressing(step: 0), .analysis(.pass, reason: "", bakeExpired: false))
        }
        #expect(throws: RolloutRefusal(description: "a rollout that is promoted cannot be promoted; start a new rollout instead")) {
            try canary.next(.promoted, .promote)
        }
        #expect(throws: RolloutRefusal(description: "a rollout that is progressing cannot be promoted")) {
            try canary.next(.progressing(step: 1), .promote)
        }
        #expect(throws: RolloutRefusal(description: "a rollout that is rolled_back cannot be aborted; start a new rollout instead")) {
            try canary.next(.rolledBack(reason: "x"), .abort(reason: "y"))
        }
        #expect(throws: RolloutRefusal.self) { try canary.next(.progressing(step: 1), .rollback(reason: "abort first")) }
        #expect(try canary.next(.paused(step: 4, reason: ""), .abort(reason: "by hand")) == .aborted(reason: "by hand"))
        #expect(try canary.next(.promoted, .rollback(reason: "post-promotion analysis")) == .rolledBack(reason: "post-promotion analysis"))
    }

    @Test func replaceHasNoStepsAndPromotesAtOnce() throws {
        #expect(try RolloutMachine(steps: []).next(.pending, .start) == .promoted)
    }
}

@Suite("Rollout machine: a bake that runs out of time")
struct BakeExpiryTests {
    let steps: [DeploySpec.Step] = [.setWeight(10), .bake(minDuration: nil, minSamples: 400, maxDuration: .seconds(60)), .analysis(metric: "hit_rate")]

    @Test func aBakeWithoutItsSamplesPausesOrRollsBackNeverAdvances() throws {
        let pause = RolloutMachine(steps: steps, onInconclusive: .pause)
        #expect(try pause.next(.progressing(step: 1), .bakeExpired(reason: "12 of 400")) == .paused(step: 1, reason: "bake incomplete at max_duration: 12 of 400"))
        let rollback = RolloutMachine(steps: steps, onInconclusive: .rollback)
        #expect(try rollback.next(.progressing(step: 1), .bakeExpired(reason: "12 of 400")) == .aborted(reason: "bake incomplete at max_duration: 12 of 400"))
        #expect(throws: RolloutRefusal.self) { try pause.next(.progressing(step: 0), .bakeExpired(reason: "")) }
        #expect(throws: RolloutRefusal.self) { try pause.next(.promoted, .bakeExpired(reason: "")) }
    }
}

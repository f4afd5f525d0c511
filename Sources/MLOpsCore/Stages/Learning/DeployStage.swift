import Foundation
import MLOpsLearn

/// `uses: deploy`: registers the upstream model (the nearest stage that wrote `model.json`) as the
/// next version of `model` and starts its rollout: `replace` promotes at once, `canary` moves
/// through its steps, `blue_green` checks the candidate in the idle slot, then switches. A model's
/// first version has nothing to be compared with and is promoted at once. While another rollout
/// of the model is in flight, `in_flight: refuse` (default) registers the candidate and leaves it
/// tagged `deploy=refused`; `supersede` rolls the one under way back first.
struct DeployStage: Stage {
    var with: [String: SpecValue]

    func run(_ context: StageContext, started: @Sendable (AttemptHandle) -> Void) async -> StageTermination {
        StageFiles.run {
            let spec = try DeploySpecParser.parse(with, stage: context.stage)
            guard let source = context.input(with: "model.json") else {
                throw StageSettings.Failure(message: "\(context.stage) needs model.json from an upstream training stage")
            }
            // Refuse to register what is not a readable model.
            let model = try ModelArtifact.load(folder: source.artifacts)
            let registry = ModelRegistry(store: context.store, directory: context.workspace.registryDirectory)
            let candidate = try registry.register(name: spec.model, from: source.artifacts, runID: source.runID,
                                                  tags: ["mlops.job": context.job, "mlops.job_run": context.parentRunID])
            let say = { (line: String) in context.echo?(.stderr, Substring(line)) }
            let now = context.store.nowMillis()
            let controller = RolloutController(store: context.store)
            var params = ["model": spec.model, "model_version": String(candidate.version), "strategy": spec.strategy.rawValue]

            if let current = try controller.rollouts.inFlight(spec.model) {
                switch spec.inFlight {
                case .refuse:
                    let reason = "a rollout of v\(current.candidateVersion) is \(current.state.name); in_flight: refuse"
                    try registry.tag(spec.model, candidate.version, ["deploy": "refused", "deploy_reason": reason])
                    say("deploy refused: \(spec.model) v\(candidate.version) registered but not rolled out: \(reason)")
                    params["outcome"] = "refused"
                    params["reason"] = reason
                    try StageFiles.report(metrics: ["model_version": Double(candidate.version)], params: params, in: context)
                    return
                case .supersede:
                    try controller.abort(spec.model, reason: "superseded by v\(candidate.version)", now: now)
                    say("rollout of v\(current.candidateVersion) rolled back: superseded by v\(candidate.version)")
                }
            }
            let stable = try registry.aliases(spec.model)["champion"]
            var plan = RolloutPlan(spec)
            if stable == nil || spec.strategy == .replace { plan.steps = [] }
            let rollout = try controller.rollouts.create(model: spec.model, candidate: candidate.version, stable: stable, plan: plan,
                                                         jobRunID: context.parentRunID, now: now)
            params["rollout"] = rollout.id
            params["previous_champion"] = stable.map(String.init) ?? "none"
            if spec.strategy == .blueGreen, stable != nil {
                if let failure = try preCheck(model, spec: spec.preCheck, context: context) {
                    try controller.rollouts.apply(.abort(reason: "pre-promotion check failed: \(failure)"), to: rollout.id, now: now)
                    try controller.advance(spec.model, now: now)
                    throw StageSettings.Failure(message: "\(spec.model) v\(candidate.version): pre-promotion check failed: \(failure); v\(stable!) stays champion")
                }
            }
            for transition in try controller.advance(spec.model, now: now) {
                say("rollout " + transition.summary)
            }
            let after = try controller.rollouts.rollout(rollout.id) ?? rollout
            params["rollout_state"] = after.state.name
            params["outcome"] = after.state == .promoted ? "promoted" : "rolling_out"
            try StageFiles.report(metrics: ["model_version": Double(candidate.version), "rollout_weight": Double(after.weight)],
                                  params: params, in: context)
        }
    }

    /// Blue-green's check in the idle slot: the candidate scores a sample of this week's rows (or
    /// the held-out rows) with the columns it was trained on, gives no NaN, and keeps within the
    /// latency bound. Returns what failed, or nil.
    func preCheck(_ model: ModelArtifact, spec: DeploySpec.PreCheck, context: StageContext) throws -> String? {
        guard let path = context.inputFile("current.csv") ?? context.inputFile("holdout.csv") ?? context.inputFile("history.csv") else {
            return "no rows to score (current.csv, holdout.csv or history.csv upstream)"
        }
        let table = try StageFiles.readTable(path: path)
        let sample = table.rowCount > spec.sample ? table.rows(Array(0..<spec.sample)) : table
        let clock = ContinuousClock()
        let start = clock.now
        let scores: [Double]
        do { scores = try model.score(sample) } catch { return "the candidate cannot score \((path as NSString).lastPathComponent): \(error)" }
        let elapsed = clock.now - start
        if let bad = scores.firstIndex(where: { !$0.isFinite || $0 < 0 || $0 > 1 }) {
            return "row \(bad + 1) of the sample scored \(scores[bad])"
        }
        let millis = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        let perRow = millis / Double(max(1, scores.count))
        if perRow > spec.maxLatencyMillis {
            return String(format: "%.3f ms a row, over max_latency_ms %.3f", perRow, spec.maxLatencyMillis)
        }
        return nil
    }
}

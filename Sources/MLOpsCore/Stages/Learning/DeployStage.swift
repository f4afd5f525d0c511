import Foundation
import MLOpsLearn

/// `uses: deploy`: registers the upstream model (the nearest stage that wrote `model.json`) as the
/// next version of `model`, then promotes it. `strategy: replace` moves `champion` at once;
/// canary and blue-green arrive with rollouts.
struct DeployStage: Stage {
    var with: [String: SpecValue]

    func run(_ context: StageContext, started: @Sendable (ProcessIdentity) -> Void) async -> StageTermination {
        StageFiles.run {
            let name = with["model"]?.description ?? ""
            let strategy = with["strategy"]?.description ?? "replace"
            guard strategy == "replace" else {
                throw StageSettings.Failure(message: "\(context.stage): strategy \(strategy) arrives with rollouts; this version promotes with `strategy: replace`")
            }
            guard let source = context.input(with: "model.json") else {
                throw StageSettings.Failure(message: "\(context.stage) needs model.json from an upstream training stage")
            }
            // Refuse to register what is not a readable model.
            _ = try ModelArtifact.load(folder: source.artifacts)
            let registry = ModelRegistry(store: context.store, directory: context.workspace.registryDirectory)
            let version = try registry.register(name: name, from: source.artifacts, runID: source.runID,
                                                tags: ["mlops.job": context.job, "mlops.job_run": context.parentRunID])
            let previous = try registry.setAlias(name, "champion", to: version.version,
                                                 reason: "deployed by job \(context.job) run \(context.parentRunID.prefix(8)) (strategy replace)")
            var params = ["model": name, "model_version": String(version.version), "strategy": strategy]
            params["previous_champion"] = previous.map(String.init) ?? "none"
            try StageFiles.report(metrics: ["model_version": Double(version.version)], params: params, in: context)
        }
    }
}

import Foundation
import MLOpsLearn

/// `uses: evaluate`: the upstream `model.json` scored on the held-out week of `history.csv` (the
/// latest, by default) or on a table of your own (`path:`), every textbook metric recorded on the
/// stage's run. With `champion: MODEL`, the current champion is scored on the same rows too
/// (`champion_*` metrics, and `evaluation.csv` with both scores), so a gate can compare them.
struct EvaluateStage: Stage {
    static let keys = ["top_k", "threshold", "bins", "week", "path", "champion"]

    var with: [String: SpecValue]

    func run(_ context: StageContext, started: @Sendable (AttemptHandle) -> Void) async -> StageTermination {
        StageFiles.run {
            let w = StageSettings(stage: context.stage, with: with)
            guard let source = context.input(with: "model.json") else {
                throw StageSettings.Failure(message: "\(context.stage) needs model.json from an upstream training stage")
            }
            let model = try ModelArtifact.load(folder: source.artifacts)
            var week: Int?
            let data: Table
            if let path = with["path"]?.description {
                let full = path.hasPrefix("/") ? path : "\(context.workspace.root)/\(path)"
                data = try StageFiles.readTable(path: full, required: [model.label], types: [model.label: .numeric])
            } else {
                data = try StageFiles.readTable(context, "history.csv", required: [model.label], producer: "synthetic-cohort or csv")
            }
            var rows = data
            if with["path"] == nil, let weeks = data.numeric("week") {
                let chosen = try w.optionalInt("week") ?? Int(weeks.max() ?? 0)
                rows = data.rows(weeks.indices.filter { Int(weeks[$0]) == chosen })
                week = chosen
                if model.training.weeks.contains(chosen) {
                    throw StageSettings.Failure(message: "\(context.stage): week \(chosen) was in the training data; evaluate on a week the model has not seen")
                }
            }
            guard rows.rowCount > 0 else { throw StageSettings.Failure(message: "\(context.stage): no rows to evaluate on") }
            let labels = rows.numeric(model.label)!.map { $0 == 1 }
            let p = try model.score(rows)
            let k = min(try w.int("top_k", 500), rows.rowCount)
            let threshold = try w.double("threshold", 0.5)
            var metrics = Self.metrics(p, labels, k: k, threshold: threshold, bins: try w.int("bins", 10))
            var params = ["eval_on": with["path"]?.description ?? week.map { "week \($0)" } ?? "history", "k": String(k), "threshold": String(threshold)]
            if let championName = with["champion"]?.description {
                params["champion_model"] = championName
                let registry = ModelRegistry(store: context.store, directory: context.workspace.registryDirectory)
                var evaluation = Table()
                evaluation.append("label", .numeric(labels.map { $0 ? 1 : 0 }))
                evaluation.append("score", .numeric(p))
                if let champion = try? registry.resolve(ModelRegistry.Reference(parsing: "\(championName)@champion")) {
                    try registry.verify(champion)
                    let championScores = try ModelArtifact.load(folder: champion.storageLocation).score(rows)
                    for (key, value) in Self.metrics(championScores, labels, k: k, threshold: threshold, bins: try w.int("bins", 10)) {
                        metrics["champion_\(key)"] = value
                    }
                    evaluation.append("champion_score", .numeric(championScores))
                    params["champion_version"] = String(champion.version)
                } else {
                    params["champion_version"] = "none"
                }
                try StageFiles.write(TableCSV.write(evaluation), to: "evaluation.csv", in: context)
            }
            try StageFiles.report(metrics: metrics, params: params, in: context)
        }
    }

    /// Every metric of one model's scores; `hits_at_k` and `k` are the counts behind the hit rate.
    static func metrics(_ p: [Double], _ labels: [Bool], k: Int, threshold: Double, bins: Int) -> [String: Double] {
        let confusion = BinaryMetrics.confusion(probabilities: p, labels: labels, threshold: threshold)
        let top = BinaryMetrics.topK(scores: p, k: k)
        return [
            "auc": BinaryMetrics.auc(scores: p, labels: labels),
            "log_loss": BinaryMetrics.logLoss(probabilities: p, labels: labels),
            "brier": BinaryMetrics.brier(probabilities: p, labels: labels),
            "precision": confusion.precision, "recall": confusion.recall, "f1": confusion.f1,
            "hit_rate_at_k": BinaryMetrics.hitRateAtK(scores: p, labels: labels, k: k),
            "lift_at_k": BinaryMetrics.liftAtK(scores: p, labels: labels, k: k),
            "ece": BinaryMetrics.expectedCalibrationError(probabilities: p, labels: labels, bins: bins),
            "base_rate": BinaryMetrics.baseRate(labels),
            "eval_rows": Double(labels.count),
            "hits_at_k": Double(top.filter { labels[$0] }.count),
            "k": Double(top.count),
        ]
    }
}

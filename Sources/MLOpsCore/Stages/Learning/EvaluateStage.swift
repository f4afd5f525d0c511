import Foundation
import MLOpsLearn

/// `uses: evaluate`: the upstream `model.json` scored on the held-out week of `history.csv` (the
/// latest, by default) or on a table of your own (`path:`), every textbook metric recorded on the
/// stage's run.
struct EvaluateStage: Stage {
    static let keys = ["top_k", "threshold", "bins", "week", "path"]

    var with: [String: SpecValue]

    func run(_ context: StageContext, started: @Sendable (ProcessIdentity) -> Void) async -> StageTermination {
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
            let confusion = BinaryMetrics.confusion(probabilities: p, labels: labels, threshold: threshold)
            try StageFiles.report(
                metrics: [
                    "auc": BinaryMetrics.auc(scores: p, labels: labels),
                    "log_loss": BinaryMetrics.logLoss(probabilities: p, labels: labels),
                    "brier": BinaryMetrics.brier(probabilities: p, labels: labels),
                    "precision": confusion.precision, "recall": confusion.recall, "f1": confusion.f1,
                    "hit_rate_at_k": BinaryMetrics.hitRateAtK(scores: p, labels: labels, k: k),
                    "lift_at_k": BinaryMetrics.liftAtK(scores: p, labels: labels, k: k),
                    "ece": BinaryMetrics.expectedCalibrationError(probabilities: p, labels: labels, bins: try w.int("bins", 10)),
                    "base_rate": BinaryMetrics.baseRate(labels),
                    "eval_rows": Double(rows.rowCount),
                ],
                params: ["eval_on": with["path"]?.description ?? week.map { "week \($0)" } ?? "history", "k": String(k), "threshold": String(threshold)],
                in: context)
        }
    }
}

import Foundation
import MLOpsLearn

/// `uses: outcomes`: the labels that became known this week, attached to the predictions they
/// answer. It reads the upstream `history.csv` (the synthetic cohort's, or a user's own `csv`),
/// and each labelled row whose entity and week match an earlier prediction of `model` becomes that
/// prediction's outcome, observed now. A prediction's outcome is recorded once: a label that is
/// already known is not touched. This is how the weekly job closes its own loop: the rollout's
/// analysis and the monitors then count these outcomes.
struct OutcomesStage: Stage {
    static let keys = ["model", "label", "entity", "period"]

    var with: [String: SpecValue]

    func run(_ context: StageContext, started: @Sendable (AttemptHandle) -> Void) async -> StageTermination {
        StageFiles.run {
            let w = StageSettings(stage: context.stage, with: with)
            let model = w.string("model", "")
            guard !model.isEmpty else { throw StageSettings.Failure(message: "\(context.stage): `model` names the model whose predictions get outcomes") }
            let labelColumn = w.string("label", SyntheticCohort.label), entityColumn = w.string("entity", "customer_id")
            let periodColumn = w.string("period", "week")
            // The true outcomes when the producer keeps them apart from the training feed.
            let file = context.inputFile("outcomes.csv") != nil ? "outcomes.csv" : "history.csv"
            let history = try StageFiles.readTable(context, file, producer: "synthetic-cohort or csv")
            guard let labels = history.numeric(labelColumn) else {
                throw StageSettings.Failure(message: "\(context.stage): history.csv has no numeric label column '\(labelColumn)'")
            }
            guard let entities = ScoreStage.texts(history, entityColumn), let periods = history.numeric(periodColumn) else {
                throw StageSettings.Failure(message: "\(context.stage): history.csv needs the entity column '\(entityColumn)' and the period column '\(periodColumn)'")
            }
            let now = context.store.nowMillis()
            // A row without a label or a whole-number period answers nothing.
            let rows = (0..<history.rowCount).compactMap { r -> PredictionLog.Label? in
                guard !labels[r].isNaN, periods[r].isFinite, abs(periods[r]) <= 1e15 else { return nil }
                return PredictionLog.Label(entity: entities[r], period: Int(periods[r]), label: labels[r] == 1)
            }
            let (recorded, contacted, hits) = try context.store.write { try PredictionLog.attachLabels($0, model: model, rows, now: now) }
            var metrics = ["outcomes_recorded": Double(recorded), "outcomes_contacted": Double(contacted)]
            if contacted > 0 { metrics["hit_rate_new_outcomes"] = Double(hits) / Double(contacted) }
            try StageFiles.report(metrics: metrics, params: ["model": model], in: context)
        }
    }
}

import Foundation
import GRDB
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

    func run(_ context: StageContext, started: @Sendable (ProcessIdentity) -> Void) async -> StageTermination {
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
            let now = Store.nowMillis()
            let (recorded, hits, contacted) = try context.store.database.write { db -> (Int, Int, Int) in
                // Only periods with a prediction still waiting for its label: the history repeats
                // weeks whose outcomes are all known, and those rows need no lookup.
                let waiting = try db.makeStatement(sql: """
                    SELECT EXISTS (SELECT 1 FROM predictions p WHERE p.model_name = ? AND p.period = ?
                                   AND NOT EXISTS (SELECT 1 FROM outcomes o WHERE o.prediction_id = p.id))
                    """)
                var scored = Set<Int>()
                // A row without a label or a whole-number period answers nothing.
                let period = { (r: Int) -> Int? in
                    labels[r].isNaN || !periods[r].isFinite || abs(periods[r]) > 1e15 ? nil : Int(periods[r])
                }
                for period in Set((0..<history.rowCount).compactMap(period))
                where try Bool.fetchOne(waiting, arguments: [model, period]) == true {
                    scored.insert(period)
                }
                let attach = try db.makeStatement(sql: """
                    INSERT INTO outcomes (prediction_id, label, observed_time, recorded_time)
                    SELECT id, ?, ?, ? FROM predictions INDEXED BY predictions_by_entity WHERE model_name = ? AND entity_id = ? AND period = ? AND true
                    ON CONFLICT (prediction_id) DO NOTHING
                    """)
                var recorded = 0
                for r in 0..<history.rowCount {
                    guard let p = period(r), scored.contains(p) else { continue }
                    try attach.execute(arguments: [labels[r] == 1, now, now, model, entities[r], p])
                    recorded += db.changesCount
                }
                let row = try Row.fetchOne(db, sql: """
                    SELECT COUNT(*) AS n, COALESCE(SUM(o.label), 0) AS hits FROM outcomes o JOIN predictions p ON p.id = o.prediction_id
                    WHERE p.model_name = ? AND o.recorded_time = ? AND p.contacted = 1 AND p.holdout = 0
                    """, arguments: [model, now])
                return (recorded, row?["hits"] ?? 0, row?["n"] ?? 0)
            }
            var metrics = ["outcomes_recorded": Double(recorded), "outcomes_contacted": Double(contacted)]
            if contacted > 0 { metrics["hit_rate_new_outcomes"] = Double(hits) / Double(contacted) }
            try StageFiles.report(metrics: metrics, params: ["model": model], in: context)
        }
    }
}

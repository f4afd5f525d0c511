import Foundation
import GRDB
import MLOpsLearn

/// `uses: score`: scores this week's base (`current.csv`) with the version an alias names, and
/// chooses whom to contact: the top `top_k` (or everyone at or above `threshold`), except a small
/// random holdout (default 5%) that is never contacted, so the base rate and the lift stay
/// measurable without selection bias. Every prediction is stored and written to predictions.csv.
struct ScoreStage: Stage {
    static let keys = ["model", "alias", "top_k", "threshold", "holdout", "seed", "entity", "period"]

    var with: [String: SpecValue]

    func run(_ context: StageContext, started: @Sendable (ProcessIdentity) -> Void) async -> StageTermination {
        StageFiles.run {
            let w = StageSettings(stage: context.stage, with: with)
            let name = w.string("model", "")
            guard !name.isEmpty else { throw StageSettings.Failure(message: "\(context.stage): `model` names the registered model to score with") }
            let registry = ModelRegistry(store: context.store, directory: context.workspace.registryDirectory)
            let version = try registry.resolve(ModelRegistry.Reference(parsing: "\(name)@\(w.string("alias", "champion"))"))
            try registry.verify(version)
            let model = try ModelArtifact.load(folder: version.storageLocation)
            let rows = try StageFiles.readTable(context, "current.csv", producer: "synthetic-cohort or csv with `current`")
            let entityColumn = w.string("entity", "customer_id")
            guard let entities = Self.texts(rows, entityColumn) else {
                throw StageSettings.Failure(message: "\(context.stage): current.csv has no entity column '\(entityColumn)'")
            }
            let periods = rows.numeric(w.string("period", "week"))
            let scores = try model.score(rows)
            let holdoutShare = try w.double("holdout", 0.05)
            guard (0..<1).contains(holdoutShare) else { throw StageSettings.Failure(message: "\(context.stage): `holdout` is a share in [0, 1)") }
            let seed = UInt64(truncatingIfNeeded: try w.int("seed", 7))
            // Holdout membership is a hash of (seed, entity, period): reproducible, and blind to the score.
            let holdout = entities.indices.map { i in
                var g = SeededGenerator(seed: seed, stream: 4, UInt64(truncatingIfNeeded: entities[i].hashStable), UInt64(periods.map { Int($0[i]) } ?? 0))
                return g.uniform() < holdoutShare
            }
            var contacted = [Bool](repeating: false, count: rows.rowCount)
            let eligible = scores.indices.filter { !holdout[$0] }
            if let threshold = with["threshold"]?.double {
                for i in eligible where scores[i] >= threshold { contacted[i] = true }
            } else {
                let k = try w.int("top_k", 1000)
                let ranked = BinaryMetrics.topK(scores: eligible.map { scores[$0] }, k: k).map { eligible[$0] }
                for i in ranked { contacted[i] = true }
            }
            let now = Store.nowMillis()
            try context.store.database.write { db in
                let insert = try db.cachedStatement(sql: """
                    INSERT INTO predictions (run_uuid, model_name, model_version, entity_id, period, score, contacted, holdout, created_time)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                for i in 0..<rows.rowCount {
                    try insert.execute(arguments: [context.runID, name, version.version, entities[i], periods.map { Int($0[i]) },
                                                   scores[i], contacted[i], holdout[i], now])
                }
            }
            var out = MLOpsLearn.Table()
            out.append("entity_id", .categorical(entities))
            if let periods { out.append("period", .numeric(periods)) }
            out.append("score", .numeric(scores))
            out.append("contacted", .numeric(contacted.map { $0 ? 1 : 0 }))
            out.append("holdout", .numeric(holdout.map { $0 ? 1 : 0 }))
            out.append("model_version", .numeric([Double](repeating: Double(version.version), count: rows.rowCount)))
            try StageFiles.write(TableCSV.write(out), to: "predictions.csv", in: context)
            try StageFiles.report(
                metrics: ["scored": Double(rows.rowCount), "contacted": Double(contacted.filter { $0 }.count),
                          "holdout": Double(holdout.filter { $0 }.count), "model_version": Double(version.version),
                          "mean_score": scores.reduce(0, +) / Double(max(1, scores.count))],
                params: ["scored_with": version.reference], in: context)
        }
    }

    /// An id column as text, whether it was read as numbers or as names.
    static func texts(_ table: MLOpsLearn.Table, _ column: String) -> [String]? {
        switch table.column(column) {
        case let .numeric(values)?: return values.map(TableCSV.format)
        case let .categorical(values)?: return values
        case nil: return nil
        }
    }
}

extension String {
    /// FNV-1a: a hash that is the same in every process (Swift's `hashValue` is seeded per run).
    var hashStable: UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return hash
    }
}

import Foundation
import MLOpsLearn

/// `uses: score`: scores this week's base (`current.csv`) with the version an alias names, and
/// chooses whom to contact: the top `top_k` (or everyone at or above `threshold`), except a small
/// random holdout (default 5%) that is never contacted, so the base rate and the lift stay
/// measurable without selection bias. Every prediction is stored and written to predictions.csv.
/// Scoring with `champion` while a rollout is in flight splits the base by sticky hash: each
/// customer is scored by its arm's version, each arm contacts its share of `top_k`, and every
/// prediction records its version and the rollout. The rollout is advanced first, so the weekly
/// batch is where a batch-scored model's rollout moves on.
///
/// With `shards: N`, copy i scores the customers whose stable hash falls to it, so every customer
/// is scored, stored and written once; each copy contacts its share of `top_k` from its own
/// ranking (the slices are hash-random, so this is the global top within sampling error; a
/// `threshold` is exact). The copies do not advance the rollout (they would race over it: the
/// scheduler advances it), and only copy 0 records the drift of its slice, a random sample of the base.
struct ScoreStage: Stage {
    static let keys = ["model", "alias", "top_k", "threshold", "holdout", "seed", "entity", "period"]

    var with: [String: SpecValue]

    /// One week's base as scored: who, in which period, each one's score and the version that gave it.
    struct Batch {
        var rows: MLOpsLearn.Table
        var entities: [String]
        var periods: [Double]?
        var scores: [Double]
        var versions: [Int]
        var holdout: [Bool] = []
        var contacted: [Bool] = []
    }

    func run(_ context: StageContext, started: @Sendable (AttemptHandle) -> Void) async -> StageTermination {
        StageFiles.run {
            let w = StageSettings(stage: context.stage, with: with)
            let name = w.string("model", "")
            guard !name.isEmpty else { throw StageSettings.Failure(message: "\(context.stage): `model` names the registered model to score with") }
            let registry = ModelRegistry(store: context.store, directory: context.workspace.registryDirectory)
            let (version, rollout) = try routing(context, w, registry, name)
            let model = try ModelArtifact.load(folder: version.storageLocation)
            var (batch, total) = try score(context, w, registry, model, version, rollout)
            try chooseContacts(context, w, &batch, ofTotal: total)
            let now = context.store.nowMillis()
            // What the stable version scored, against its own training data.
            let drift = DriftReport(reference: model.training, current: batch.rows)
            let period = batch.periods.flatMap { $0.first.map { Int($0) } }
            try context.store.write { tx in
                if (context.shard?.index ?? 0) == 0 {
                    try FeatureDriftLog.record(tx, model: name, version: version.version, period: period, runID: context.runID, report: drift, now: now)
                }
                try PredictionLog.record(tx, batch.entities.indices.map { i in
                    PredictionLog.Entry(runID: context.runID, model: name, version: batch.versions[i], entity: batch.entities[i],
                                        period: batch.periods.map { Int($0[i]) }, score: batch.scores[i], contacted: batch.contacted[i],
                                        holdout: batch.holdout[i], time: now, rolloutID: rollout?.id)
                })
            }
            try report(context, batch, name: name, version: version, rollout: rollout, drift: drift)
        }
    }

    /// The version that scores, and the rollout in flight that splits the base, if any: scoring
    /// with `champion` first moves the model's rollout on.
    func routing(_ context: StageContext, _ w: StageSettings, _ registry: ModelRegistry, _ name: String) throws -> (ModelVersion, Rollout?) {
        let alias = w.string("alias", ModelAlias.champion.rawValue)
        var rollout: Rollout?
        if alias == ModelAlias.champion.rawValue {
            let controller = RolloutController(store: context.store)
            if context.shard == nil {
                for transition in try controller.advance(name, now: context.store.nowMillis()) {
                    context.echo?(.stderr, Substring("rollout " + transition.summary))
                }
            }
            rollout = try controller.rollouts.inFlight(name).flatMap { $0.weight > 0 && $0.stableVersion != nil ? $0 : nil }
        }
        let version = try rollout.flatMap { r in try r.stableVersion.map { try registry.version(name, $0) } }
            ?? registry.resolve(ModelRegistry.Reference(parsing: "\(name)@\(alias)"))
        try registry.verify(version)
        return (version, rollout)
    }

    /// Scores `current.csv` (a shard: its slice of it): every customer by `version`, or, in a
    /// rollout, those whose sticky bucket falls to the candidate by the candidate. Also gives the
    /// number of rows in the whole file.
    func score(_ context: StageContext, _ w: StageSettings, _ registry: ModelRegistry, _ model: ModelArtifact,
               _ version: ModelVersion, _ rollout: Rollout?) throws -> (Batch, total: Int) {
        var rows = try StageFiles.readTable(context, "current.csv", producer: "synthetic-cohort or csv with `current`")
        let entityColumn = w.string("entity", "customer_id")
        guard var entities = Self.texts(rows, entityColumn) else {
            throw StageSettings.Failure(message: "\(context.stage): current.csv has no entity column '\(entityColumn)'")
        }
        let total = rows.rowCount
        if let shard = context.shard {
            let mine = entities.indices.filter { Int(entities[$0].hashStable % UInt64(shard.count)) == shard.index }
            rows = rows.rows(mine)
            entities = mine.map { entities[$0] }
        }
        var batch = Batch(rows: rows, entities: entities, periods: rows.numeric(w.string("period", "week")), scores: try model.score(rows),
                          versions: [Int](repeating: version.version, count: rows.rowCount))
        if let rollout {
            let candidate = try registry.version(version.name, rollout.candidateVersion)
            try registry.verify(candidate)
            let candidateScores = try ModelArtifact.load(folder: candidate.storageLocation).score(rows)
            for i in 0..<rows.rowCount where rollout.version(for: entities[i]) == candidate.version {
                batch.scores[i] = candidateScores[i]
                batch.versions[i] = candidate.version
            }
        }
        return (batch, total)
    }

    /// The holdout (never contacted) and whom to contact: the top `top_k`, each arm its share from
    /// its own ranking so both arms are judged at the same depth, or everyone over `threshold`.
    /// `total`: the rows of the whole base, of which `batch` may be one shard's slice; the slice
    /// contacts its share of `top_k`.
    func chooseContacts(_ context: StageContext, _ w: StageSettings, _ batch: inout Batch, ofTotal total: Int) throws {
        let holdoutShare = try w.double("holdout", 0.05)
        guard (0..<1).contains(holdoutShare) else { throw StageSettings.Failure(message: "\(context.stage): `holdout` is a share in [0, 1)") }
        let seed = UInt64(truncatingIfNeeded: try w.int("seed", 7))
        // Holdout membership is a hash of (seed, entity, period): reproducible, and blind to the score.
        batch.holdout = batch.entities.indices.map { i in
            var g = SeededGenerator(seed: seed, stream: 4, UInt64(truncatingIfNeeded: batch.entities[i].hashStable),
                                    UInt64(batch.periods.map { Int($0[i]) } ?? 0))
            return g.uniform() < holdoutShare
        }
        batch.contacted = [Bool](repeating: false, count: batch.rows.rowCount)
        let eligible = batch.scores.indices.filter { !batch.holdout[$0] }
        if let threshold = with["threshold"]?.double {
            for i in eligible where batch.scores[i] >= threshold { batch.contacted[i] = true }
            return
        }
        let k = Int((Double(try w.int("top_k", 1000)) * Double(batch.rows.rowCount) / Double(max(1, total))).rounded())
        for (_, members) in Dictionary(grouping: eligible, by: { batch.versions[$0] }) {
            let share = Int((Double(k) * Double(members.count) / Double(max(1, eligible.count))).rounded())
            for i in BinaryMetrics.topK(scores: members.map { batch.scores[$0] }, k: share) { batch.contacted[members[i]] = true }
        }
    }

    /// predictions.csv, and the run's metrics and params.
    func report(_ context: StageContext, _ batch: Batch, name: String, version: ModelVersion, rollout: Rollout?, drift: DriftReport) throws {
        var out = MLOpsLearn.Table()
        out.append("entity_id", .categorical(batch.entities))
        if let periods = batch.periods { out.append("period", .numeric(periods)) }
        out.append("score", .numeric(batch.scores))
        out.append("contacted", .numeric(batch.contacted.map { $0 ? 1 : 0 }))
        out.append("holdout", .numeric(batch.holdout.map { $0 ? 1 : 0 }))
        out.append("model_version", .numeric(batch.versions.map(Double.init)))
        try StageFiles.write(TableCSV.write(out), to: "predictions.csv", in: context)
        var metrics = ["scored": Double(batch.rows.rowCount), "contacted": Double(batch.contacted.filter { $0 }.count),
                       "holdout": Double(batch.holdout.filter { $0 }.count), "model_version": Double(version.version),
                       "mean_score": batch.scores.reduce(0, +) / Double(max(1, batch.scores.count))]
        metrics.merge(FeatureDriftLog.metrics(drift)) { a, _ in a }
        var params = ["scored_with": version.reference]
        if let rollout, let stable = rollout.stableVersion {
            metrics["scored_by_candidate"] = Double(batch.versions.filter { $0 == rollout.candidateVersion }.count)
            params["scored_with"] = "\(name)/\(stable) and candidate \(name)/\(rollout.candidateVersion) at \(rollout.weight)%"
            params["rollout"] = rollout.id
        }
        try StageFiles.report(metrics: metrics, params: params, in: context)
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
    var hashStable: UInt64 { hashStable(continuing: 0xCBF2_9CE4_8422_2325) }

    /// FNV-1a carried on from `hash`: hashing several strings in turn equals hashing them joined.
    func hashStable(continuing hash: UInt64) -> UInt64 {
        var hash = hash
        for byte in utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return hash
    }
}

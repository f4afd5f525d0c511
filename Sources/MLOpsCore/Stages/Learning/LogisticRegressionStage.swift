import Foundation
import MLOpsLearn

/// `uses: logistic-regression`: fits the propensity model on the upstream `history.csv`, holding
/// out the latest week for evaluation, and writes `model.json`.
/// The training window: every week of the history (default), the last `window_weeks`, or
/// `window: since_champion` with `model:`, the weeks after those the current champion was trained on
/// (after concept drift, all-history training recovers far less).
struct LogisticRegressionStage: Stage {
    static let keys = ["label", "l2", "features", "window", "window_weeks", "model", "class_weight", "max_iterations", "missing", "holdout"]
    /// Columns that identify a row rather than describe it.
    static let identifiers: Set<String> = ["customer_id", "id", "week"]

    var with: [String: SpecValue]

    func run(_ context: StageContext, started: @Sendable (AttemptHandle) -> Void) async -> StageTermination {
        StageFiles.run {
            let w = StageSettings(stage: context.stage, with: with)
            let label = w.string("label", "bought")
            let data = try StageFiles.readTable(context, "history.csv", required: [label], producer: "synthetic-cohort or csv")
            var after: Int?
            switch w.string("window", "all") {
            case "all": break
            case "since_champion":
                let name = w.string("model", "")
                guard !name.isEmpty else { throw StageSettings.Failure(message: "\(context.stage): `window: since_champion` needs `model:`") }
                let registry = ModelRegistry(store: context.store, directory: context.workspace.registryDirectory)
                // With no champion yet, every week is "since" it.
                if let champion = try? registry.resolve(ModelRegistry.Reference(parsing: "\(name)@champion")) {
                    try registry.verify(champion)
                    let model = try ModelArtifact.load(folder: champion.storageLocation)
                    after = model.training.weeks.max()
                }
            case let other: throw StageSettings.Failure(message: "\(context.stage): `window` is all or since_champion, not '\(other)'")
            }
            let split = try HoldoutSplit(data, holdout: w.string("holdout", "latest_week"), windowWeeks: try w.optionalInt("window_weeks"), after: after)
            let train = split.train
            guard train.rowCount > 0 else { throw StageSettings.Failure(message: "\(context.stage): no training rows left after the holdout and window") }
            guard let missing = FeatureEncoder.MissingPolicy(rawValue: w.string("missing", "mean")) else {
                throw StageSettings.Failure(message: "\(context.stage): `missing` is mean or error")
            }
            let features = try w.strings("features")
            let encoder = try FeatureEncoder.fit(train, features: features, exclude: Self.identifiers.union([label]), missing: missing)
            let labels = train.numeric(label)!.map { $0 == 1 }
            var model = LogisticRegression(l2: try w.double("l2", 1.0), maxIterations: try w.int("max_iterations", 50))
            switch w.string("class_weight", "none") {
            case "none": break
            case "balanced":
                let positives = Double(labels.filter { $0 }.count), n = Double(labels.count)
                guard positives > 0, positives < n else { throw StageSettings.Failure(message: "\(context.stage): one class only; cannot balance") }
                model.classWeights = (n / (2 * (n - positives)), n / (2 * positives))
            case let other: throw StageSettings.Failure(message: "\(context.stage): `class_weight` is none or balanced, not '\(other)'")
            }
            let fit = model.fit(try encoder.encode(train), labels: labels)
            let artifact = ModelArtifact(label: label, encoder: encoder, fit: fit, model: model, training: train, weeks: split.trainWeeks)
            try StageFiles.write(try artifact.json(), to: "model.json", in: context)
            try StageFiles.report(
                metrics: ["train_rows": Double(train.rowCount), "train_positives": Double(labels.filter { $0 }.count),
                          "iterations": Double(fit.iterations), "gradient_norm": fit.gradientNorm, "converged": fit.converged ? 1 : 0,
                          "train_objective": fit.objective / Double(train.rowCount)],
                params: ["inputs": String(encoder.width), "train_weeks": split.trainWeeks.map(String.init).joined(separator: ","),
                         "holdout_week": split.holdoutWeek.map(String.init) ?? "none"],
                in: context)
            if !fit.converged {
                throw StageSettings.Failure(message: "\(context.stage): did not converge in \(fit.iterations) iterations (gradient \(fit.gradientNorm)); raise max_iterations or l2")
            }
        }
    }
}

/// The time-based split: the latest week held out, the training window before it.
struct HoldoutSplit {
    var train: Table
    var holdout: Table?
    var trainWeeks: [Int]
    var holdoutWeek: Int?

    init(_ data: Table, holdout: String, windowWeeks: Int?, after: Int? = nil) throws {
        guard let weekColumn = data.numeric("week") else {
            train = data
            trainWeeks = []
            return
        }
        let weeks = Array(Set(weekColumn.map { Int($0) })).sorted()
        switch holdout {
        case "latest_week" where weeks.count >= 2: holdoutWeek = weeks.last
        case "latest_week", "none": holdoutWeek = nil
        default: throw StageSettings.Failure(message: "`holdout` is latest_week or none, not '\(holdout)'")
        }
        let held = holdoutWeek
        var candidates = weeks.filter { $0 != held && $0 > (after ?? Int.min) }
        if let windowWeeks {
            guard windowWeeks > 0 else { throw StageSettings.Failure(message: "`window_weeks` must be positive") }
            candidates = Array(candidates.suffix(windowWeeks))
        }
        trainWeeks = candidates
        let keep = Set(candidates)
        train = data.rows(weekColumn.indices.filter { keep.contains(Int(weekColumn[$0])) })
        if let holdoutWeek {
            self.holdout = data.rows(weekColumn.indices.filter { Int(weekColumn[$0]) == holdoutWeek })
        }
    }
}

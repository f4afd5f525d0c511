import Foundation

/// A trained propensity model as one versioned JSON document: everything scoring needs (the
/// encoder and the weights) and everything monitoring needs later (the training data's per-feature
/// deciles and category frequencies, and how the fit went).
public struct ModelArtifact: Sendable, Codable, Equatable {
    public static let currentFormatVersion = 1

    public var format = "mlops.logistic-regression"
    public var formatVersion = ModelArtifact.currentFormatVersion
    public var label: String
    public var encoder: FeatureEncoder
    public var featureNames: [String]
    public var intercept: Double
    public var weights: [Double]
    public var training: TrainingSummary
    public var fit: FitSummary

    public struct TrainingSummary: Sendable, Codable, Equatable {
        public var rows: Int
        public var positives: Int
        public var weeks: [Int]
        /// Deciles (0%, 10%, …, 100%) of each numeric feature.
        public var quantiles: [String: [Double]]
        /// Each category's share of the rows.
        public var frequencies: [String: [String: Double]]
        /// Each numeric feature's shares in bins cut at its deciles: the reference monitoring
        /// compares a scored batch with once the training rows are gone. Absent in older models.
        public var histograms: [String: FeatureHistogram]?
    }

    public struct FitSummary: Sendable, Codable, Equatable {
        public var l2: Double
        public var classWeights: [Double]
        public var iterations: Int
        public var gradientNorm: Double
        public var converged: Bool
    }

    public init(label: String, encoder: FeatureEncoder, fit: LogisticRegression.Fit, model: LogisticRegression, training: Table, weeks: [Int]) {
        self.label = label
        self.encoder = encoder
        featureNames = encoder.featureNames
        intercept = fit.intercept
        weights = fit.weights
        let labels = training.numeric(label) ?? []
        var quantiles: [String: [Double]] = [:]
        var histograms: [String: FeatureHistogram] = [:]
        for numeric in encoder.numerics {
            let values = (training.numeric(numeric.name) ?? []).filter { !$0.isNaN }.sorted()
            quantiles[numeric.name] = values.isEmpty ? [] : (0...10).map { Self.quantile(values, Double($0) / 10) }
            if !values.isEmpty { histograms[numeric.name] = FeatureHistogram(reference: values) }
        }
        var frequencies: [String: [String: Double]] = [:]
        for categorical in encoder.categoricals {
            let values = training.categorical(categorical.name) ?? []
            var counts: [String: Double] = [:]
            for v in values { counts[v, default: 0] += 1 }
            frequencies[categorical.name] = counts.mapValues { $0 / Double(max(1, values.count)) }
        }
        self.training = TrainingSummary(rows: training.rowCount, positives: labels.filter { $0 == 1 }.count, weeks: weeks,
                                        quantiles: quantiles, frequencies: frequencies, histograms: histograms)
        self.fit = FitSummary(l2: model.l2, classWeights: [model.classWeights.negative, model.classWeights.positive],
                              iterations: fit.iterations, gradientNorm: fit.gradientNorm, converged: fit.converged)
    }

    /// Linear interpolation between order statistics (numpy's default).
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let low = Int(position.rounded(.down)), high = Int(position.rounded(.up))
        return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
    }

    /// Probabilities for the rows of `table`.
    public func score(_ table: Table) throws -> [Double] {
        try encoder.linearPredictor(table, intercept: intercept, weights: weights).map { 1 / (1 + exp(-$0)) }
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    public struct FormatError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The `model.json` in `folder` (an artifact folder or a registry version's).
    public static func load(folder: String, name: String = "model.json") throws -> ModelArtifact {
        let path = "\(folder)/\(name)"
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path)) else { throw FormatError(description: "cannot read \(path)") }
        return try load(data, source: path)
    }

    public static func load(_ data: Data, source: String) throws -> ModelArtifact {
        struct Header: Decodable { var format: String?; var formatVersion: Int? }
        let header = try? JSONDecoder().decode(Header.self, from: data)
        guard header?.format == "mlops.logistic-regression" else {
            throw FormatError(description: "\(source) is not an mlops logistic-regression model")
        }
        guard let version = header?.formatVersion, version <= currentFormatVersion else {
            throw FormatError(description: "\(source) has model format \(header?.formatVersion ?? 0); this mlops reads up to \(currentFormatVersion)")
        }
        do {
            return try JSONDecoder().decode(ModelArtifact.self, from: data)
        } catch {
            throw FormatError(description: "\(source) is damaged: \(error)")
        }
    }
}

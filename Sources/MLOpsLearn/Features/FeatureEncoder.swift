import Foundation

/// Turns table rows into model inputs the same way at training and at scoring: numerics
/// standardised with the training mean and deviation, categories one-hot with an "unseen" slot for
/// levels the training data never had, and missing numbers handled as declared. Learned once on
/// the training data and stored with the model.
public struct FeatureEncoder: Sendable, Codable, Equatable {
    public enum MissingPolicy: String, Sendable, Codable, CaseIterable {
        /// Replace by the training mean (0 after standardising).
        case mean
        /// Refuse a row with a missing number.
        case error
    }

    public struct Numeric: Sendable, Codable, Equatable {
        public var name: String
        public var mean: Double
        public var std: Double
    }

    public struct Categorical: Sendable, Codable, Equatable {
        public var name: String
        /// Sorted; one slot each, then one for anything else.
        public var levels: [String]
    }

    public var numerics: [Numeric]
    public var categoricals: [Categorical]
    public var missing: MissingPolicy

    public struct EncodingError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Learns the encoding of `features` (every column but `exclude` when nil) from `table`.
    public static func fit(_ table: Table, features: [String]? = nil, exclude: Set<String> = [],
                           missing: MissingPolicy = .mean) throws(EncodingError) -> FeatureEncoder {
        var numerics: [Numeric] = []
        var categoricals: [Categorical] = []
        for name in features ?? table.names.filter({ !exclude.contains($0) }) {
            switch table.column(name) {
            case let .numeric(values)?:
                var sum = 0.0, count = 0.0
                for v in values where !v.isNaN { sum += v; count += 1 }
                let mean = count > 0 ? sum / count : 0
                var squares = 0.0
                for v in values where !v.isNaN { squares += (v - mean) * (v - mean) }
                let std = count > 1 ? sqrt(squares / count) : 0
                numerics.append(Numeric(name: name, mean: mean, std: std > 0 ? std : 1))
            case let .categorical(values)?:
                categoricals.append(Categorical(name: name, levels: Set(values).sorted()))
            case nil:
                throw EncodingError(description: "no column '\(name)' in the training data (columns: \(table.names.joined(separator: ", ")))")
            }
        }
        return FeatureEncoder(numerics: numerics, categoricals: categoricals, missing: missing)
    }

    /// Inputs per row.
    public var width: Int { numerics.count + categoricals.reduce(0) { $0 + $1.levels.count + 1 } }

    /// A name for each input, e.g. `age`, `channel=web`, `channel=<unseen>`.
    public var featureNames: [String] {
        numerics.map(\.name) + categoricals.flatMap { c in c.levels.map { "\(c.name)=\($0)" } + ["\(c.name)=<unseen>"] }
    }

    /// The rows as one row-major matrix of `width` columns.
    public func encode(_ table: Table) throws(EncodingError) -> Matrix {
        let rows = table.rowCount
        var matrix = Matrix(rows: rows, columns: width)
        var offset = 0
        for numeric in numerics {
            guard case let .numeric(values)? = table.column(numeric.name) else {
                throw EncodingError(description: "the data has no numeric column '\(numeric.name)', which the model needs")
            }
            if missing == .error, let r = values.firstIndex(where: \.isNaN) {
                throw EncodingError(description: "row \(r + 1): '\(numeric.name)' is missing")
            }
            let width = matrix.columns, column = offset, mean = numeric.mean, std = numeric.std
            values.withUnsafeBufferPointer { source in
                matrix.storage.withUnsafeMutableBufferPointer { target in
                    for r in 0..<rows {
                        let v = source[r]
                        target[r * width + column] = v.isNaN ? 0 : (v - mean) / std
                    }
                }
            }
            offset += 1
        }
        for categorical in categoricals {
            guard case let .categorical(values)? = table.column(categorical.name) else {
                throw EncodingError(description: "the data has no categorical column '\(categorical.name)', which the model needs")
            }
            let index = Dictionary(uniqueKeysWithValues: categorical.levels.enumerated().map { ($1, $0) })
            for r in 0..<rows {
                matrix[r, offset + (index[values[r]] ?? categorical.levels.count)] = 1
            }
            offset += categorical.levels.count + 1
        }
        return matrix
    }
}

extension FeatureEncoder {
    /// b + w·x for every row, computed column by column on the table itself: scoring never builds
    /// the row-major matrix (for a million rows, 168 MB it would only read once).
    public func linearPredictor(_ table: Table, intercept: Double, weights: [Double]) throws(EncodingError) -> [Double] {
        precondition(weights.count == width, "\(weights.count) weights for \(width) inputs")
        let rows = table.rowCount
        var z = [Double](repeating: intercept, count: rows)
        var offset = 0
        try z.withUnsafeMutableBufferPointer { (out: inout UnsafeMutableBufferPointer<Double>) throws(EncodingError) in
            for numeric in numerics {
                guard case let .numeric(values)? = table.column(numeric.name) else {
                    throw EncodingError(description: "the data has no numeric column '\(numeric.name)', which the model needs")
                }
                if missing == .error, let r = values.firstIndex(where: \.isNaN) {
                    throw EncodingError(description: "row \(r + 1): '\(numeric.name)' is missing")
                }
                let w = weights[offset] / numeric.std, shift = numeric.mean
                values.withUnsafeBufferPointer { source in
                    for r in 0..<rows where !source[r].isNaN { out[r] += w * (source[r] - shift) }
                }
                offset += 1
            }
            for categorical in categoricals {
                guard case let .categorical(values)? = table.column(categorical.name) else {
                    throw EncodingError(description: "the data has no categorical column '\(categorical.name)', which the model needs")
                }
                var lookup: [String: Double] = [:]
                for (i, level) in categorical.levels.enumerated() { lookup[level] = weights[offset + i] }
                let unseen = weights[offset + categorical.levels.count]
                for r in 0..<rows { out[r] += lookup[values[r]] ?? unseen }
                offset += categorical.levels.count + 1
            }
        }
        return z
    }
}

/// A dense row-major matrix of doubles.
public struct Matrix: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    public var storage: [Double]

    public init(rows: Int, columns: Int, storage: [Double]? = nil) {
        self.rows = rows
        self.columns = columns
        self.storage = storage ?? [Double](repeating: 0, count: rows * columns)
        precondition(self.storage.count == rows * columns, "storage does not match \(rows)×\(columns)")
    }

    public subscript(row: Int, column: Int) -> Double {
        get { storage[row * columns + column] }
        set { storage[row * columns + column] = newValue }
    }
}

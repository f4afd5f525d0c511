import Foundation

/// A model prepared to score one row at a time, as a server receives them: the weights are folded
/// with the standardisation, and each categorical's levels become a lookup, so a row costs a few
/// dictionary reads and multiply-adds. It gives exactly `ModelArtifact.score`'s numbers.
public struct RowScorer: Sendable {
    struct NumericInput: Sendable {
        var name: String
        var weight: Double
        var mean: Double
    }

    struct CategoricalInput: Sendable {
        var name: String
        var weights: [String: Double]
        var unseen: Double
    }

    let intercept: Double
    let numerics: [NumericInput]
    let categoricals: [CategoricalInput]
    let missing: FeatureEncoder.MissingPolicy

    /// What is wrong with a row, and in which field.
    public struct InputError: Error, Sendable, CustomStringConvertible {
        public var field: String
        public var message: String
        public var description: String { "\(field): \(message)" }
    }

    public init(_ model: ModelArtifact) {
        intercept = model.intercept
        missing = model.encoder.missing
        var offset = 0
        var numerics: [NumericInput] = []
        for n in model.encoder.numerics {
            numerics.append(NumericInput(name: n.name, weight: model.weights[offset] / n.std, mean: n.mean))
            offset += 1
        }
        var categoricals: [CategoricalInput] = []
        for c in model.encoder.categoricals {
            var weights: [String: Double] = [:]
            for (i, level) in c.levels.enumerated() { weights[level] = model.weights[offset + i] }
            categoricals.append(CategoricalInput(name: c.name, weights: weights, unseen: model.weights[offset + c.levels.count]))
            offset += c.levels.count + 1
        }
        self.numerics = numerics
        self.categoricals = categoricals
    }

    /// The features the model reads, numbers first.
    public var featureNames: [String] { numerics.map(\.name) + categoricals.map(\.name) }

    /// The probability for one row of JSON-decoded features (`Double` or `NSNumber` for numbers,
    /// `String` for categories, `NSNull` or absence for a missing number).
    public func score(_ features: [String: Any], path: String = "features") throws(InputError) -> Double {
        var z = intercept
        for n in numerics {
            switch features[n.name] {
            case is Bool:
                throw InputError(field: "\(path).\(n.name)", message: "expected a number, found a boolean")
            case let v as Double:
                guard v.isFinite else { throw InputError(field: "\(path).\(n.name)", message: "is not a finite number") }
                z += n.weight * (v - n.mean)
            case let number as NSNumber where !isBoolean(number):
                let v = number.doubleValue
                guard v.isFinite else { throw InputError(field: "\(path).\(n.name)", message: "is not a finite number") }
                z += n.weight * (v - n.mean)
            case nil, is NSNull:
                if missing == .error { throw InputError(field: "\(path).\(n.name)", message: "is missing; the model needs this number") }
            case let other?:
                throw InputError(field: "\(path).\(n.name)", message: "expected a number, found \(Self.describe(other))")
            }
        }
        for c in categoricals {
            switch features[c.name] {
            case let level as String:
                z += c.weights[level] ?? c.unseen
            case nil, is NSNull:
                throw InputError(field: "\(path).\(c.name)", message: "is missing; the model needs this category (a string)")
            case let other?:
                throw InputError(field: "\(path).\(c.name)", message: "expected a string, found \(Self.describe(other))")
            }
        }
        return 1 / (1 + exp(-z))
    }

    static func describe(_ value: Any) -> String {
        switch value {
        case is String: return "a string"
        case is Bool: return "a boolean"
        case is Double: return "a number"
        case let n as NSNumber: return isBoolean(n) ? "a boolean" : "a number"
        case is [Any]: return "a list"
        case is [String: Any]: return "an object"
        default: return "\(type(of: value))"
        }
    }
}

/// JSONSerialization gives booleans as NSNumber too, with the objCType of a char.
@inline(__always)
func isBoolean(_ number: NSNumber) -> Bool { number.objCType.pointee == 0x63 }

import Foundation
import Hummingbird
import MLOpsText

/// A request's fields, from the query string (GET, repeated keys for lists) or the JSON body
/// (POST, PATCH, DELETE), read with MLflow's rules: unknown fields are ignored, int64 fields may
/// come as numbers or strings, doubles as numbers or "NaN"/"Infinity".
struct MLflowFields {
    var object: [String: Any]

    init(_ object: [String: Any]) { self.object = object }

    static func read(_ request: inout Request, limit: Int) async throws -> MLflowFields {
        var object: [String: Any] = [:]
        // Form encoding, as the client's `requests` writes it: '+' is a space, then percent-decoding.
        for pair in (request.uri.query ?? "").split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            let key = decode(parts[0]), value = parts.count > 1 ? decode(parts[1]) : ""
            if let existing = object[key] {
                object[key] = ((existing as? [Any]) ?? [existing]) + [value]
            } else {
                object[key] = value
            }
        }
        if request.method != .get {
            guard let buffer = try await RequestBodyLimit.collect(&request, limit: limit) else {
                throw MLflowError(.badRequest, "The request body is over the limit of \(limit) bytes")
            }
            if buffer.readableBytes > 0 {
                let parsed: Any
                do {
                    parsed = try buffer.withUnsafeReadableBytes { bytes throws(JSONBody.SyntaxError) in try JSONBody.parse(bytes) }
                } catch {
                    throw MLflowError(.badRequest, "Malformed JSON body: \(error.description)")
                }
                guard let body = parsed as? [String: Any] else { throw MLflowError(.badRequest, "The request body must be a JSON object") }
                object.merge(body) { _, body in body }
            }
        }
        return MLflowFields(object)
    }

    func has(_ key: String) -> Bool { value(key) != nil }

    /// A field's value; JSON null is no value. Null is found by its type: `is NSNull` on a Swift
    /// array or dictionary bridges all of it to Foundation first, which was most of a
    /// `log_batch`'s time.
    func value(_ key: String) -> Any? {
        guard let value = object[key], type(of: value) != NSNull.self else { return nil }
        return value
    }

    func string(_ key: String) throws -> String? {
        switch value(key) {
        case nil: return nil
        case let s as String: return s
        case let d as Double: return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case let b as Bool: return b ? "true" : "false"
        case let list as [Any] where list.count == 1: return try MLflowFields(["v": list[0]]).string("v")
        default: throw MLflowError.invalid(key, object[key]!, "expected a string")
        }
    }

    func required(_ key: String) throws -> String {
        guard let value = try string(key), !value.isEmpty else { throw MLflowError.missing(key) }
        return value
    }

    /// `run_id`, or the older `run_uuid`.
    func runID() throws -> String {
        if let id = try string("run_id"), !id.isEmpty { return id }
        if let id = try string("run_uuid"), !id.isEmpty { return id }
        throw MLflowError.missing("run_id")
    }

    func int64(_ key: String) throws -> Int64? {
        switch value(key) {
        case nil: return nil
        case let d as Double where d == d.rounded() && abs(d) < 9.2e18: return Int64(d)
        case let s as String:
            guard let value = Int64(s) else { throw MLflowError.invalid(key, "'\(s)'", "expected an integer") }
            return value
        default: throw MLflowError.invalid(key, object[key]!, "expected an integer")
        }
    }

    func double(_ key: String) throws -> Double? {
        switch value(key) {
        case nil: return nil
        case let d as Double: return d
        case let s as String:
            switch s {
            case "NaN", "nan": return .nan
            case "Infinity", "inf": return .infinity
            case "-Infinity", "-inf": return -.infinity
            default:
                guard let value = Double(s) else { throw MLflowError.invalid(key, "'\(s)'", "expected a number") }
                return value
            }
        default: throw MLflowError.invalid(key, object[key]!, "expected a number")
        }
    }

    func bool(_ key: String) throws -> Bool? {
        switch value(key) {
        case nil: return nil
        case let b as Bool: return b
        case let s as String: return s == "true" || s == "True" || s == "1"
        default: throw MLflowError.invalid(key, object[key]!, "expected true or false")
        }
    }

    /// A repeated string field: a JSON array, or repeated query keys.
    func strings(_ key: String) throws -> [String] {
        switch value(key) {
        case nil: return []
        case let list as [Any]: return try list.enumerated().map { try MLflowFields(["\(key)[\($0.offset)]": $0.element]).required("\(key)[\($0.offset)]") }
        default: return [try required(key)]
        }
    }

    /// A repeated message field.
    func objects(_ key: String) throws -> [MLflowFields] {
        switch value(key) {
        case nil: return []
        case let list as [Any]:
            return try list.enumerated().map {
                guard let item = $0.element as? [String: Any] else { throw MLflowError.invalid("\(key)[\($0.offset)]", $0.element, "expected an object") }
                return MLflowFields(item)
            }
        default: throw MLflowError.invalid(key, object[key]!, "expected a list of objects")
        }
    }

    func nested(_ key: String) -> MLflowFields? { (object[key] as? [String: Any]).map(MLflowFields.init) }

    /// `[{key, value}]` as a dictionary (the last value of a repeated key wins).
    func keyValues(_ key: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for (i, item) in try objects(key).enumerated() {
            let k = try item.string("key") ?? ""
            guard !k.isEmpty else { throw MLflowError.missing("\(key)[\(i)].key") }
            result[k] = try item.string("value") ?? ""
        }
        return result
    }
}

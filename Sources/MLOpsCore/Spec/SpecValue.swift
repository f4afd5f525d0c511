import Foundation

/// A loosely typed value from jobs.yaml (`params:`, `with:`), kept as YAML typed it.
public enum SpecValue: Sendable, Hashable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([SpecValue])
    case map([String: SpecValue])

    /// The text form used for params, environment variables and command lines.
    public var description: String {
        switch self {
        case .null: return ""
        case let .bool(b): return b ? "true" : "false"
        case let .int(i): return String(i)
        case let .double(d): return d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) + ".0" : String(d)
        case let .string(s): return s
        case .list, .map: return jsonText
        }
    }

    public var jsonObject: Any {
        switch self {
        case .null: return NSNull()
        case let .bool(b): return b
        case let .int(i): return i
        case let .double(d): return d
        case let .string(s): return s
        case let .list(items): return items.map(\.jsonObject)
        case let .map(entries): return entries.mapValues(\.jsonObject)
        }
    }

    public var jsonText: String {
        JSONWriter.text(jsonObject)
    }

    public var string: String? { if case let .string(s) = self { s } else { nil } }
    public var int: Int? {
        switch self {
        case let .int(i): return i
        case let .string(s): return Int(s)
        default: return nil
        }
    }
    public var double: Double? {
        switch self {
        case let .int(i): return Double(i)
        case let .double(d): return d
        case let .string(s): return Double(s)
        default: return nil
        }
    }

    /// Parses a `--param key=value` value the way YAML would type it.
    public static func parsingCommandLine(_ text: String) -> SpecValue {
        if let i = Int(text) { return .int(i) }
        if let d = Double(text), text.contains(".") || text.contains("e") { return .double(d) }
        if text == "true" { return .bool(true) }
        if text == "false" { return .bool(false) }
        return .string(text)
    }
}

/// `${params.NAME}` references inside strings of a spec.
public enum ParamReference {
    /// Every name referenced in `text`, with its 0-based character offset.
    public static func names(in text: String) -> [(name: String, offset: Int)] {
        var found: [(String, Int)] = []
        let chars = Array(text)
        var i = 0
        while i + 1 < chars.count {
            if chars[i] == "$", chars[i + 1] == "{", let close = chars[(i + 2)...].firstIndex(of: "}") {
                let inner = String(chars[(i + 2)..<close]).trimmingCharacters(in: .whitespaces)
                if inner.hasPrefix("params.") { found.append((String(inner.dropFirst(7)), i)) }
                i = close + 1
            } else {
                i += 1
            }
        }
        return found
    }

    /// Replaces the references; a string that is exactly one reference takes the param's own type.
    public static func substitute(_ value: SpecValue, params: [String: SpecValue]) -> SpecValue {
        switch value {
        case let .string(text):
            let refs = names(in: text)
            if refs.isEmpty { return value }
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if refs.count == 1, trimmed.hasPrefix("${"), trimmed.hasSuffix("}"), let param = params[refs[0].name],
               trimmed.dropFirst(2).dropLast().trimmingCharacters(in: .whitespaces) == "params.\(refs[0].name)" {
                return param
            }
            return .string(substitute(text, params: params))
        case let .list(items): return .list(items.map { substitute($0, params: params) })
        case let .map(entries): return .map(entries.mapValues { substitute($0, params: params) })
        default: return value
        }
    }

    public static func substitute(_ text: String, params: [String: SpecValue]) -> String {
        var result = ""
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            if i + 1 < chars.count, chars[i] == "$", chars[i + 1] == "{", let close = chars[(i + 2)...].firstIndex(of: "}") {
                let inner = String(chars[(i + 2)..<close]).trimmingCharacters(in: .whitespaces)
                if inner.hasPrefix("params."), let value = params[String(inner.dropFirst(7))] {
                    result += value.description
                    i = close + 1
                    continue
                }
            }
            result.append(chars[i])
            i += 1
        }
        return result
    }
}

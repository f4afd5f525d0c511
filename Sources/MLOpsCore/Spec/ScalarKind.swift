import Yams

/// What a YAML scalar is, by the YAML 1.2 core schema: quoted text is a string; plain text is null,
/// a boolean, an integer, a float, or a string. Decided by hand rather than by Yams' regex-based
/// resolver, whose one-time set-up costs milliseconds on every start.
enum ScalarKind: Equatable {
    case null
    case bool
    case int
    case float
    case string

    init(_ scalar: Node.Scalar) {
        guard scalar.style == .plain || scalar.style == .any else {
            self = .string
            return
        }
        self = Self.classify(scalar.string)
    }

    static func classify(_ text: String) -> ScalarKind {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE", "false", "False", "FALSE": return .bool
        case ".inf", ".Inf", ".INF", "-.inf", "-.Inf", "-.INF", "+.inf", ".nan", ".NaN", ".NAN": return .float
        default: break
        }
        var chars = Substring(text)
        if chars.first == "-" || chars.first == "+" { chars = chars.dropFirst() }
        guard let first = chars.first, first.isASCII, first.isNumber || first == "." else { return .string }
        if chars.hasPrefix("0x"), chars.count > 2, chars.dropFirst(2).allSatisfy(\.isHexDigit) { return .int }
        if chars.hasPrefix("0o"), chars.count > 2, chars.dropFirst(2).allSatisfy({ ("0"..."7").contains($0) }) { return .int }
        if chars.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "_") }) { return .int }
        // [digits][.digits][e[+-]digits], at least one digit before the exponent.
        var sawDigit = false, sawDot = false, index = chars.startIndex
        while index < chars.endIndex {
            let c = chars[index]
            if c.isASCII && c.isNumber || c == "_" { sawDigit = sawDigit || c != "_" }
            else if c == ".", !sawDot { sawDot = true }
            else { break }
            index = chars.index(after: index)
        }
        guard sawDigit else { return .string }
        if index == chars.endIndex { return .float }
        guard chars[index] == "e" || chars[index] == "E" else { return .string }
        var exponent = chars[chars.index(after: index)...]
        if exponent.first == "-" || exponent.first == "+" { exponent = exponent.dropFirst() }
        return !exponent.isEmpty && exponent.allSatisfy({ $0.isASCII && $0.isNumber }) ? .float : .string
    }

    /// The value of a plain `true`/`false`.
    static func bool(_ text: String) -> Bool? {
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    /// The value of a plain number, `.inf` and `.nan` included.
    static func double(_ text: String) -> Double? {
        switch text.lowercased() {
        case ".inf", "+.inf": return .infinity
        case "-.inf": return -.infinity
        case ".nan": return .nan
        default: break
        }
        let cleaned = text.replacingOccurrences(of: "_", with: "")
        if let int = int(cleaned) { return Double(int) }
        return Double(cleaned)
    }

    /// The value of a plain integer: decimal, 0x hexadecimal or 0o octal.
    static func int(_ text: String) -> Int? {
        var body = Substring(text.replacingOccurrences(of: "_", with: ""))
        var sign = 1
        if body.first == "-" { sign = -1; body = body.dropFirst() } else if body.first == "+" { body = body.dropFirst() }
        if body.hasPrefix("0x") { return Int(body.dropFirst(2), radix: 16).map { $0 * sign } }
        if body.hasPrefix("0o") { return Int(body.dropFirst(2), radix: 8).map { $0 * sign } }
        return Int(body).map { $0 * sign }
    }
}

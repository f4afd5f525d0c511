import Yams

/// Reads typed fields out of a composed YAML node tree, collecting every problem with its location,
/// its field path and a hint instead of stopping at the first.
struct SpecReader {
    let file: String
    private(set) var diagnostics: [Diagnostic] = []

    init(file: String) { self.file = file }

    func location(_ node: Node?, offset: Int = 0) -> SourceLocation? {
        guard let mark = node?.mark else { return nil }
        var column = mark.column + offset
        if case let .scalar(scalar)? = node, scalar.style == .singleQuoted || scalar.style == .doubleQuoted, offset > 0 {
            column += 1
        }
        return SourceLocation(file: file, line: mark.line, column: column)
    }

    mutating func error(_ node: Node?, _ path: String, _ message: String, hint: String? = nil, offset: Int = 0) {
        diagnostics.append(Diagnostic(location: location(node, offset: offset), path: path, message: message, hint: hint))
    }

    mutating func error(at location: SourceLocation?, _ path: String, _ message: String, hint: String? = nil) {
        diagnostics.append(Diagnostic(location: location, path: path, message: message, hint: hint))
    }

    static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case let .scalar(scalar):
            switch kind(of: scalar, node: node) {
            case .null: return "null"
            case .bool: return "a boolean"
            case .int: return "a number"
            case .float: return "a number"
            default: return "the string '\(scalar.string)'"
            }
        }
    }

    static func kind(of scalar: Node.Scalar, node: Node) -> ScalarKind { ScalarKind(scalar) }

    /// The entries of a mapping; unknown keys are reported with a "did you mean".
    mutating func mapping(_ node: Node, _ path: String, allowed: [String]? = nil,
                          what: String = "a mapping") -> [(key: String, keyNode: Node, value: Node)]? {
        guard case let .mapping(mapping) = node else {
            error(node, path, "expected \(what), found \(Self.describe(node))")
            return nil
        }
        var entries: [(String, Node, Node)] = []
        for (keyNode, value) in mapping {
            guard case let .scalar(scalar) = keyNode else {
                error(keyNode, path, "a key must be a plain name, found \(Self.describe(keyNode))")
                continue
            }
            let key = scalar.string
            if let allowed, !allowed.contains(key) {
                let hint = Suggestion.hint(for: key, in: allowed) ?? "allowed here: \(allowed.joined(separator: ", "))"
                error(keyNode, path.isEmpty ? key : "\(path).\(key)", "unknown key '\(key)'", hint: hint)
                continue
            }
            entries.append((key, keyNode, value))
        }
        return entries
    }

    mutating func string(_ node: Node, _ path: String) -> String? {
        guard case let .scalar(scalar) = node else {
            error(node, path, "expected a string, found \(Self.describe(node))")
            return nil
        }
        if Self.kind(of: scalar, node: node) == .null {
            error(node, path, "expected a string, found null")
            return nil
        }
        return scalar.string
    }

    mutating func int(_ node: Node, _ path: String, min: Int? = nil, max: Int? = nil) -> Int? {
        guard case let .scalar(scalar) = node, Self.kind(of: scalar, node: node) == .int, let value = ScalarKind.int(scalar.string) else {
            error(node, path, "expected a whole number, found \(Self.describe(node))")
            return nil
        }
        if let min, value < min { error(node, path, "\(value) is below the minimum \(min)"); return nil }
        if let max, value > max { error(node, path, "\(value) is above the maximum \(max)"); return nil }
        return value
    }

    mutating func double(_ node: Node, _ path: String, range: ClosedRange<Double>? = nil) -> Double? {
        guard case let .scalar(scalar) = node, [ScalarKind.int, .float].contains(Self.kind(of: scalar, node: node)),
              let value = ScalarKind.double(scalar.string) else {
            error(node, path, "expected a number, found \(Self.describe(node))")
            return nil
        }
        if let range, !range.contains(value) {
            error(node, path, "\(scalar.string) is outside \(range.lowerBound)…\(range.upperBound)")
            return nil
        }
        return value
    }

    mutating func bool(_ node: Node, _ path: String) -> Bool? {
        guard case let .scalar(scalar) = node, Self.kind(of: scalar, node: node) == .bool, let value = ScalarKind.bool(scalar.string) else {
            error(node, path, "expected true or false, found \(Self.describe(node))")
            return nil
        }
        return value
    }

    mutating func duration(_ node: Node, _ path: String) -> SpecDuration? {
        guard let text = scalarText(node, path, expected: "a duration like 30s, 15m, 2h or 7d") else { return nil }
        switch SpecDuration.parse(text) {
        case let .success(duration): return duration
        case let .failure(failure):
            error(node, path, "bad duration: \(failure.message)", hint: failure.hint)
            return nil
        }
    }

    /// A scalar's text whatever YAML typed it as (a number is fine where a string is wanted).
    mutating func scalarText(_ node: Node, _ path: String, expected: String) -> String? {
        guard case let .scalar(scalar) = node, Self.kind(of: scalar, node: node) != .null else {
            error(node, path, "expected \(expected), found \(Self.describe(node))")
            return nil
        }
        return scalar.string
    }

    mutating func choice<T: RawRepresentable & CaseIterable>(_ node: Node, _ path: String, as: T.Type) -> T? where T.RawValue == String {
        guard let text = string(node, path) else { return nil }
        if let value = T(rawValue: text) { return value }
        let options = T.allCases.map(\.rawValue)
        error(node, path, "'\(text)' is not one of \(options.joined(separator: ", "))",
              hint: Suggestion.hint(for: text, in: options))
        return nil
    }

    /// A list of strings; a single string is taken as a list of one.
    mutating func stringList(_ node: Node, _ path: String) -> [(String, Node)]? {
        switch node {
        case .scalar:
            return string(node, path).map { [($0, node)] }
        case let .sequence(sequence):
            var items: [(String, Node)] = []
            for (i, item) in sequence.enumerated() {
                if let text = string(item, "\(path)[\(i)]") { items.append((text, item)) }
            }
            return items
        default:
            error(node, path, "expected a list of names, found \(Self.describe(node))")
            return nil
        }
    }

    func value(_ node: Node) -> SpecValue {
        switch node {
        case let .scalar(scalar):
            switch Self.kind(of: scalar, node: node) {
            case .null: return .null
            case .bool: return ScalarKind.bool(scalar.string).map(SpecValue.bool) ?? .string(scalar.string)
            case .int: return ScalarKind.int(scalar.string).map(SpecValue.int) ?? .string(scalar.string)
            case .float: return ScalarKind.double(scalar.string).map(SpecValue.double) ?? .string(scalar.string)
            case .string: return .string(scalar.string)
            }
        case let .sequence(sequence): return .list(sequence.map { value($0) })
        case let .mapping(mapping):
            var entries: [String: SpecValue] = [:]
            for (key, item) in mapping { entries[key.string ?? ""] = value(item) }
            return .map(entries)
        case .alias: return .null
        }
    }
}

import MLOpsText
/// MLflow's search-runs filter, e.g.
/// `metrics.auc > 0.8 and params.l2 = '1.0' and tags.mlops.trigger = 'schedule'`:
/// comparisons on `metrics.`, `params.`, `tags.` and `attributes.` joined by AND. Keys may be
/// quoted with backticks or double quotes; errors point at the column.
public struct RunFilter: Sendable, Hashable {
    public enum Entity: String, Sendable, Hashable { case metric, param, tag, attribute }

    public enum Value: Sendable, Hashable {
        case number(Double)
        case string(String)
        case list([String])
    }

    public struct Comparison: Sendable, Hashable {
        public var entity: Entity
        public var key: String
        public var comparator: String
        public var value: Value
        /// 1-based column where the comparison starts.
        public var column: Int
    }

    public var comparisons: [Comparison]

    /// A malformed filter: what is wrong and at which column (1-based).
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var column: Int
        public var source: String
        public var hint: String?

        public var description: String {
            var text = "invalid filter at column \(column): \(message)\n  \(source)\n  \(String(repeating: " ", count: max(0, column - 1)))^"
            if let hint { text += "\n  hint: \(hint)" }
            return text
        }
    }

    package static let entityNames: [String: Entity] = [
        "metrics": .metric, "metric": .metric, "params": .param, "param": .param, "parameters": .param,
        "tags": .tag, "tag": .tag, "attributes": .attribute, "attribute": .attribute, "attr": .attribute, "run": .attribute,
    ]
    public static let attributes = ["run_id", "run_uuid", "run_name", "status", "start_time", "end_time", "created",
                                    "artifact_uri", "user_id", "lifecycle_stage", "job", "trigger", "outcome", "duration"]
    package static let numericAttributes: Set<String> = ["start_time", "end_time", "created", "duration"]

    package enum Token: Hashable {
        case word(String)
        case quoted(String, quote: Character)
        case number(Double)
        case op(String)
        case lparen, rparen, comma
    }

    /// The attributes a filter may name, and whether a bare key (`name = 'x'`) is one of them, as
    /// in MLflow's experiment and model searches.
    public struct Vocabulary: Sendable {
        public var attributes: [String]
        public var numericAttributes: Set<String>
        public var bareKeysAreAttributes: Bool

        public init(attributes: [String], numericAttributes: Set<String>, bareKeysAreAttributes: Bool) {
            self.attributes = attributes
            self.numericAttributes = numericAttributes
            self.bareKeysAreAttributes = bareKeysAreAttributes
        }

        public static let runs = Vocabulary(attributes: RunFilter.attributes, numericAttributes: RunFilter.numericAttributes, bareKeysAreAttributes: false)
    }

    public init(parsing source: String, vocabulary: Vocabulary = .runs) throws(ParseError) {
        let tokens = try Self.tokenize(source)
        var comparisons: [Comparison] = []
        var i = 0
        func error(_ message: String, at column: Int, hint: String? = nil) -> ParseError {
            ParseError(message: message, column: column, source: source, hint: hint)
        }
        let end = source.count + 1
        while i < tokens.count {
            // identifier
            let (identToken, identColumn) = tokens[i]
            guard case let .word(written) = identToken else {
                throw error("expected a key such as metrics.auc, params.l2, tags.x or attributes.status", at: identColumn)
            }
            let bare = !written.contains(".") && vocabulary.bareKeysAreAttributes
            let ident = bare ? "attributes." + written : written
            guard let dot = ident.firstIndex(of: ".") else {
                throw error("'\(ident)' has no prefix", at: identColumn,
                            hint: "write metrics.\(ident), params.\(ident), tags.\(ident) or attributes.\(ident)")
            }
            let prefix = String(ident[..<dot]).lowercased()
            guard let entity = Self.entityNames[prefix] else {
                throw error("unknown prefix '\(ident[..<dot])'", at: identColumn,
                            hint: Suggestion.hint(for: prefix, in: ["metrics", "params", "tags", "attributes"]) ?? "use metrics., params., tags. or attributes.")
            }
            var key = String(ident[ident.index(after: dot)...])
            i += 1
            if key.isEmpty, i < tokens.count, case let .quoted(quotedKey, quote) = tokens[i].0, quote == "`" || quote == "\"" {
                key = quotedKey
                i += 1
            }
            guard !key.isEmpty else { throw error("'\(ident)' names no key", at: identColumn) }
            if entity == .attribute, !vocabulary.attributes.contains(key) {
                throw error("unknown attribute '\(key)'", at: identColumn,
                            hint: Suggestion.hint(for: key, in: vocabulary.attributes) ?? "attributes: \(vocabulary.attributes.joined(separator: ", "))")
            }
            // comparator
            guard i < tokens.count else { throw error("expected a comparator after '\(ident)'", at: end, hint: "=, !=, <, >, <=, >=, LIKE, ILIKE, IN, NOT IN") }
            var comparator: String
            let comparatorColumn = tokens[i].1
            switch tokens[i].0 {
            case let .op(op): comparator = op
            case let .word(w) where ["like", "ilike", "in"].contains(w.lowercased()): comparator = w.uppercased()
            case let .word(w) where w.lowercased() == "not":
                guard i + 1 < tokens.count, case let .word(next) = tokens[i + 1].0, next.lowercased() == "in" else {
                    throw error("expected IN after NOT", at: comparatorColumn)
                }
                comparator = "NOT IN"
                i += 1
            default:
                throw error("expected a comparator after '\(ident)'", at: comparatorColumn, hint: "=, !=, <, >, <=, >=, LIKE, ILIKE, IN, NOT IN")
            }
            i += 1
            let numericKey = entity == .metric || (entity == .attribute && vocabulary.numericAttributes.contains(key))
            let allowed = numericKey ? ["=", "!=", "<", ">", "<=", ">="]
                : entity == .attribute && ["run_id", "run_uuid"].contains(key) ? ["=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"]
                : ["=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"]
            guard allowed.contains(comparator) else {
                throw error("'\(comparator)' does not apply to \(prefix).\(key)", at: comparatorColumn,
                            hint: "use one of \(allowed.joined(separator: ", "))\(numericKey ? "" : "; params and tags are strings")")
            }
            // value
            guard i < tokens.count else { throw error("expected a value after '\(comparator)'", at: end) }
            let valueColumn = tokens[i].1
            let value: Value
            if comparator == "IN" || comparator == "NOT IN" {
                guard case .lparen = tokens[i].0 else { throw error("IN takes a list: ('a', 'b')", at: valueColumn) }
                i += 1
                var items: [String] = []
                while true {
                    guard i < tokens.count else { throw error("the list is not closed", at: end, hint: "end it with )") }
                    switch tokens[i].0 {
                    case let .quoted(s, quote) where quote == "'" || quote == "\"": items.append(s)
                    case let .number(n): items.append(Self.text(n))
                    default: throw error("expected a quoted string in the list", at: tokens[i].1)
                    }
                    i += 1
                    guard i < tokens.count else { throw error("the list is not closed", at: end, hint: "end it with )") }
                    if case .comma = tokens[i].0 { i += 1; continue }
                    if case .rparen = tokens[i].0 { i += 1; break }
                    throw error("expected , or ) in the list", at: tokens[i].1)
                }
                value = .list(items)
            } else {
                switch tokens[i].0 {
                case let .number(n):
                    if !numericKey {
                        throw error("\(prefix).\(key) is compared with a string", at: valueColumn, hint: "quote the value: '\(Self.text(n))'")
                    }
                    value = .number(n)
                case let .quoted(s, quote) where quote != "`":
                    if numericKey {
                        if entity == .attribute, let n = Double(s) { value = .number(n) } else {
                            throw error("\(prefix).\(key) is compared with a number, found '\(s)'", at: valueColumn)
                        }
                    } else {
                        value = .string(s)
                    }
                default:
                    throw error("expected a value (a number, or a string in quotes)", at: valueColumn,
                                hint: numericKey ? nil : "strings take quotes: params.x = 'value'")
                }
                i += 1
            }
            comparisons.append(Comparison(entity: entity, key: key, comparator: comparator, value: value, column: identColumn))
            // AND
            if i < tokens.count {
                guard case let .word(w) = tokens[i].0, w.lowercased() == "and" else {
                    if case let .word(w) = tokens[i].0, w.lowercased() == "or" {
                        throw error("OR is not supported", at: tokens[i].1, hint: "MLflow's filter joins comparisons with AND only; run two searches")
                    }
                    throw error("expected AND between comparisons", at: tokens[i].1)
                }
                i += 1
                guard i < tokens.count else { throw error("expected a comparison after AND", at: end) }
            }
        }
        self.comparisons = comparisons
    }

    package static func tokenize(_ source: String) throws(ParseError) -> [(Token, Int)] {
        let chars = Array(source)
        var tokens: [(Token, Int)] = []
        var i = 0
        func isWordChar(_ c: Character) -> Bool { c.isLetter || c.isNumber || "_.-/:".contains(c) }
        while i < chars.count {
            let c = chars[i]
            let column = i + 1
            if c.isWhitespace { i += 1; continue }
            switch c {
            case "(": tokens.append((.lparen, column)); i += 1
            case ")": tokens.append((.rparen, column)); i += 1
            case ",": tokens.append((.comma, column)); i += 1
            case "=": tokens.append((.op("="), column)); i += 1
            case "!":
                guard i + 1 < chars.count, chars[i + 1] == "=" else {
                    throw ParseError(message: "'!' must be followed by '='", column: column, source: source, hint: nil)
                }
                tokens.append((.op("!="), column)); i += 2
            case "<", ">":
                if i + 1 < chars.count, chars[i + 1] == "=" { tokens.append((.op("\(c)="), column)); i += 2 } else { tokens.append((.op(String(c)), column)); i += 1 }
            case "'", "\"", "`":
                var j = i + 1
                var text = ""
                while j < chars.count, chars[j] != c {
                    if chars[j] == "\\", j + 1 < chars.count { text.append(chars[j + 1]); j += 2; continue }
                    text.append(chars[j]); j += 1
                }
                guard j < chars.count else {
                    throw ParseError(message: "the quote opened here is not closed", column: column, source: source, hint: "close it with \(c)")
                }
                // A quoted key right after `prefix.` belongs to the identifier.
                if c != "'", let last = tokens.last, case let .word(w) = last.0, w.hasSuffix("."), last.1 + w.count == column {
                    tokens[tokens.count - 1] = (.word(w), last.1)
                    tokens.append((.quoted(text, quote: "`"), column))
                } else {
                    tokens.append((.quoted(text, quote: c), column))
                }
                i = j + 1
            default:
                if c.isNumber || ((c == "-" || c == "+" || c == ".") && i + 1 < chars.count && (chars[i + 1].isNumber || chars[i + 1] == ".")) {
                    var j = i + 1
                    while j < chars.count, chars[j].isNumber || chars[j] == "." || chars[j] == "e" || chars[j] == "E"
                        || ((chars[j] == "-" || chars[j] == "+") && (chars[j - 1] == "e" || chars[j - 1] == "E")) { j += 1 }
                    let text = String(chars[i..<j])
                    if let n = Double(text), j >= chars.count || !isWordChar(chars[j]) || chars[j] == "." {
                        tokens.append((.number(n), column)); i = j; continue
                    }
                }
                guard isWordChar(c) else {
                    throw ParseError(message: "unexpected character '\(c)'", column: column, source: source, hint: nil)
                }
                var j = i
                while j < chars.count, isWordChar(chars[j]) { j += 1 }
                tokens.append((.word(String(chars[i..<j])), column))
                i = j
            }
        }
        return tokens
    }
}

extension RunFilter {
    /// A number as a param's text holds it: `1.0`, not `1`, for a whole value.
    package static func text(_ n: Double) -> String {
        n.rounded() == n && abs(n) < 1e15 ? String(Int64(n)) + ".0" : String(n)
    }
}

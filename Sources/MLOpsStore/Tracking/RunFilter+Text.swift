import MLOpsText

extension RunFilter {
    /// The filter written back as text that parses to the same comparisons: keys quoted with
    /// backticks when they hold more than word characters, strings in single quotes with `\`
    /// escapes, numbers in their shortest exact form. For links that carry a search (the web view)
    /// and for messages that quote a filter.
    public var text: String {
        comparisons.map { c in
            let prefix = switch c.entity {
            case .metric: "metrics"
            case .param: "params"
            case .tag: "tags"
            case .attribute: "attributes"
            }
            let plain = !c.key.isEmpty && c.key.allSatisfy { $0.isLetter || $0.isNumber || "_.-/:".contains($0) }
            let key = plain ? "\(prefix).\(c.key)" : "\(prefix).`\(Self.escaped(c.key, quote: "`"))`"
            let value = switch c.value {
            case .number(let n): "\(n)"
            case .string(let s): "'\(Self.escaped(s, quote: "'"))'"
            case .list(let items): "(" + items.map { "'\(Self.escaped($0, quote: "'"))'" }.joined(separator: ", ") + ")"
            }
            return "\(key) \(c.comparator) \(value)"
        }.joined(separator: " AND ")
    }

    static func escaped(_ text: String, quote: Character) -> String {
        var out = ""
        for character in text {
            if character == quote || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out
    }
}

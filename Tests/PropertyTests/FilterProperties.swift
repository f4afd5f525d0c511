import Foundation
import MLOpsStore
import PropertyBased
import Testing

/// The search filter parser against what it was given: comparisons written out with any keys and
/// values (quotes, backslashes, spaces, non-ASCII) parse to exactly those comparisons, and a
/// parsed filter written back with `text` parses to the same filter again.
@Suite("The search filter round-trips")
struct FilterProperties {
    struct Written: CustomStringConvertible {
        var entity: RunFilter.Entity
        var key: String
        var comparator: String
        var value: RunFilter.Value
        var description: String { "\(entity) \(key.debugDescription) \(comparator) \(value)" }
    }

    static let text = Gen.latin1.string(of: 0...8)

    static let comparison = zip(Gen.int(in: 0...2), Gen.latin1.string(of: 1...8), Gen.int(in: 0...5), text, text.array(of: 1...3),
                                Gen.double(in: -1e12...1e12))
        .map { entity, key, comparator, string, list, number -> Written in
            if entity == 0 {
                return Written(entity: .metric, key: key, comparator: ["=", "!=", "<", ">", "<=", ">="][comparator], value: .number(number))
            }
            let op = ["=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"][comparator]
            return Written(entity: entity == 1 ? .param : .tag, key: key, comparator: op,
                           value: op.hasSuffix("IN") ? .list(list) : .string(string))
        }

    /// How a person would quote it: backticks around every key, single quotes around strings.
    static func source(_ comparisons: [Written]) -> String {
        func quoted(_ s: String, _ q: Character) -> String {
            String(q) + s.map { $0 == q || $0 == "\\" ? "\\\($0)" : String($0) }.joined() + String(q)
        }
        return comparisons.map { c in
            let prefix = c.entity == .metric ? "metrics" : c.entity == .param ? "params" : "tags"
            let value: String = switch c.value {
            case .number(let n): "\(n)"
            case .string(let s): quoted(s, "'")
            case .list(let items): "(" + items.map { quoted($0, "'") }.joined(separator: ",") + ")"
            }
            return "\(prefix).\(quoted(c.key, "`")) \(c.comparator) \(value)"
        }.joined(separator: " and ")
    }

    static func plain(_ filter: RunFilter) -> [String] {
        filter.comparisons.map { "\($0.entity)|\($0.key)|\($0.comparator)|\($0.value)" }
    }

    @Test func writtenComparisonsParseToThemselvesAndBack() async {
        await propertyCheck(count: 2000, input: Self.comparison.array(of: 1...4)) { written in
            let source = Self.source(written)
            guard let parsed = try? RunFilter(parsing: source) else {
                Issue.record("did not parse: \(source)")
                return
            }
            #expect(Self.plain(parsed) == written.map { "\($0.entity)|\($0.key)|\($0.comparator)|\($0.value)" }, "\(source)")
            let again = try? RunFilter(parsing: parsed.text)
            #expect(again.map(Self.plain) == Self.plain(parsed), "\(source) → \(parsed.text)")
        }
    }
}

/// A length of time written as in jobs.yaml: `500ms`, `30s`, `15m`, `2h`, `7d`, `1w`, or a sum like `1h30m`.
public struct SpecDuration: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public static func seconds(_ s: Double) -> SpecDuration { SpecDuration(milliseconds: Int64(s * 1000)) }

    public var seconds: Double { Double(milliseconds) / 1000 }
    public var duration: Duration { .milliseconds(milliseconds) }

    public static func < (a: SpecDuration, b: SpecDuration) -> Bool { a.milliseconds < b.milliseconds }

    static let units: [(String, Int64)] = [
        ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000), ("w", 604_800_000),
    ]

    /// Parses the text, or explains what is wrong with it.
    public static func parse(_ text: String) -> Result<SpecDuration, ParseFailure> {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return .failure(.init(message: "empty duration")) }
        var total: Int64 = 0
        var rest = Substring(trimmed)
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isNumber || $0 == "." }
            guard !digits.isEmpty, let number = Double(digits) else {
                return .failure(.init(message: "'\(text)' is not a duration"))
            }
            rest = rest.dropFirst(digits.count)
            let unitText = rest.prefix { $0.isLetter }
            guard !unitText.isEmpty else {
                return .failure(.init(message: "'\(text)' has no unit"))
            }
            guard let unit = units.first(where: { $0.0 == unitText }) else {
                return .failure(.init(message: "'\(unitText)' is not a unit of time in '\(text)'"))
            }
            rest = rest.dropFirst(unitText.count)
            total += Int64((number * Double(unit.1)).rounded())
        }
        return .success(SpecDuration(milliseconds: total))
    }

    public struct ParseFailure: Error, Sendable {
        public var message: String
        public var hint: String { "write a number and a unit: 500ms, 30s, 15m, 2h, 7d, 1w, or a sum like 1h30m" }
    }

    public var description: String {
        var rest = milliseconds
        if rest == 0 { return "0s" }
        var parts: [String] = []
        for (unit, size) in Self.units.reversed() where unit != "w" && rest >= size {
            parts.append("\(rest / size)\(unit)")
            rest %= size
        }
        return parts.joined()
    }
}

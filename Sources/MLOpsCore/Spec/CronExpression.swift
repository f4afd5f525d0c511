import Foundation

/// A five-field cron schedule (minute hour day-of-month month day-of-week), with names (`MON`,
/// `JAN`), ranges, steps, lists and the `@daily`-style macros. Day-of-month and day-of-week follow
/// Vixie cron: when both are restricted, a day matches if either matches.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    public let source: String
    public let minutes: Set<Int>
    public let hours: Set<Int>
    public let daysOfMonth: Set<Int>
    public let months: Set<Int>
    /// 0 = Sunday … 6 = Saturday (7 is folded into 0).
    public let daysOfWeek: Set<Int>
    let domRestricted: Bool
    let dowRestricted: Bool

    public var description: String { source }

    /// Why an expression was refused, with the 0-based offset of the offending field in the text.
    public struct ParseFailure: Error, Sendable {
        public var message: String
        public var offset: Int
        public var hint: String =
            "five fields: minute hour day-of-month month day-of-week, e.g. \"0 6 * * MON\", or @hourly/@daily/@weekly/@monthly/@yearly"
    }

    static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]
    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    public init(parsing text: String) throws(ParseFailure) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var expanded = trimmed
        if trimmed.hasPrefix("@") {
            guard let macro = Self.macros[trimmed.lowercased()] else {
                throw ParseFailure(message: "unknown cron macro '\(trimmed)'", offset: 0)
            }
            expanded = macro
        }
        // Fields and their offsets in the original text (macros point at 0).
        var fields: [(String, Int)] = []
        var index = 0
        var current = ""
        var start = 0
        for ch in expanded {
            if ch == " " || ch == "\t" {
                if !current.isEmpty { fields.append((current, start)); current = "" }
            } else {
                if current.isEmpty { start = index }
                current.append(ch)
            }
            index += 1
        }
        if !current.isEmpty { fields.append((current, start)) }
        if expanded != trimmed { fields = fields.map { ($0.0, 0) } }
        guard fields.count == 5 else {
            throw ParseFailure(message: "a cron expression has 5 fields, '\(trimmed)' has \(fields.count)", offset: 0)
        }
        let specs: [(name: String, range: ClosedRange<Int>, names: [String], base: Int)] = [
            ("minute", 0...59, [], 0), ("hour", 0...23, [], 0), ("day-of-month", 1...31, [], 1),
            ("month", 1...12, Self.monthNames, 1), ("day-of-week", 0...7, Self.dayNames, 0),
        ]
        var sets: [Set<Int>] = []
        for (i, spec) in specs.enumerated() {
            sets.append(try Self.parseField(fields[i].0, offset: fields[i].1, name: spec.name,
                                            range: spec.range, names: spec.names, nameBase: spec.base))
        }
        source = trimmed
        minutes = sets[0]
        hours = sets[1]
        daysOfMonth = sets[2]
        months = sets[3]
        daysOfWeek = Set(sets[4].map { $0 == 7 ? 0 : $0 })
        domRestricted = fields[2].0 != "*" && fields[2].0 != "?"
        dowRestricted = fields[4].0 != "*" && fields[4].0 != "?"
    }

    static func parseField(_ field: String, offset: Int, name: String, range: ClosedRange<Int>,
                           names: [String], nameBase: Int) throws(ParseFailure) -> Set<Int> {
        func value(_ text: Substring) throws(ParseFailure) -> Int {
            if let n = Int(text) {
                guard range.contains(n) else {
                    throw ParseFailure(message: "\(name) \(n) is out of range \(range.lowerBound)-\(range.upperBound)", offset: offset)
                }
                return n
            }
            if let i = names.firstIndex(of: text.uppercased()) { return i + nameBase }
            throw ParseFailure(message: "'\(text)' is not a valid \(name)", offset: offset)
        }
        var result = Set<Int>()
        for part in field.split(separator: ",", omittingEmptySubsequences: false) {
            guard !part.isEmpty else { throw ParseFailure(message: "empty list item in \(name) '\(field)'", offset: offset) }
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw ParseFailure(message: "more than one '/' in \(name) '\(part)'", offset: offset) }
            var step = 1
            if pieces.count == 2 {
                guard let s = Int(pieces[1]), s > 0 else {
                    throw ParseFailure(message: "step '\(pieces[1])' in \(name) must be a positive number", offset: offset)
                }
                step = s
            }
            let base = pieces[0]
            var low: Int, high: Int
            if base == "*" || base == "?" {
                low = range.lowerBound
                high = range.upperBound
            } else if let dash = base.firstIndex(of: "-") {
                low = try value(base[..<dash])
                high = try value(base[base.index(after: dash)...])
                guard low <= high else {
                    throw ParseFailure(message: "\(name) range '\(base)' runs backwards", offset: offset)
                }
            } else {
                low = try value(base)
                high = pieces.count == 2 ? range.upperBound : low
            }
            result.formUnion(stride(from: low, through: high, by: step))
        }
        return result
    }

    /// The first time strictly after `date` that matches, in `timeZone`; nil if none within 5 years.
    /// Daylight saving is done so that no run is lost or doubled: a wall-clock time that a spring
    /// jump skips fires just after the jump (02:30 becomes 03:30), and a time that the autumn
    /// fall-back repeats fires once, at its first occurrence.
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let sortedHours = hours.sorted(), sortedMinutes = minutes.sorted()
        guard var day = calendar.date(from: calendar.dateComponents([.year, .month, .day], from: date)) else { return nil }
        for _ in 0..<(5 * 366) {
            let c = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            if let year = c.year, let month = c.month, let dayOfMonth = c.day, let weekday = c.weekday,
               months.contains(month), dayMatches(day: dayOfMonth, weekday: weekday - 1) {
                var best: Date?
                var firstWall: Int?
                search: for hour in sortedHours {
                    for minute in sortedMinutes {
                        // Wall times after a gap can map earlier than a gap-shifted one: look a few hours on.
                        if let first = firstWall, hour * 60 + minute - first > 180 { break search }
                        guard let instant = calendar.date(from: DateComponents(year: year, month: month, day: dayOfMonth, hour: hour, minute: minute)),
                              instant > date else { continue }
                        if firstWall == nil { firstWall = hour * 60 + minute }
                        if best.map({ instant < $0 }) ?? true { best = instant }
                    }
                }
                if let best { return best }
            }
            guard let following = calendar.date(byAdding: .day, value: 1, to: day) else { return nil }
            day = following
        }
        return nil
    }

    func dayMatches(day: Int, weekday: Int) -> Bool {
        switch (domRestricted, dowRestricted) {
        case (true, true): return daysOfMonth.contains(day) || daysOfWeek.contains(weekday)
        case (true, false): return daysOfMonth.contains(day)
        case (false, true): return daysOfWeek.contains(weekday)
        case (false, false): return true
        }
    }
}

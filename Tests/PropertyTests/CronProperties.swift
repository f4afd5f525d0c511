import Foundation
import MLOpsCore
import PropertyBased
import Testing

/// A cron expression's next fire time against the plainest oracle there is: a walk minute by
/// minute over real instants, across daylight-saving changes, with the rule the scheduler
/// promises: a wall time a spring jump skips fires just after the jump (02:30 at 03:30), a wall
/// time the autumn fall-back repeats fires once, at its first occurrence.
@Suite("Cron's next fire time against a minute-by-minute walk")
struct CronProperties {
    struct Case: CustomStringConvertible {
        var text: String
        var domRestricted: Bool
        var dowRestricted: Bool
        var zone: String
        var start: Int64
        var description: String { "'\(text)' in \(zone) after \(Date(timeIntervalSince1970: TimeInterval(start)))" }
    }

    /// The daylight-saving changes of 2026 in zones that have them, and one zone without.
    static let transitions: [(zone: String, at: Int64)] = {
        var found: [(String, Int64)] = [("UTC", 1_780_000_000)]
        for name in ["Europe/Madrid", "America/New_York", "Australia/Sydney"] {
            guard let zone = TimeZone(identifier: name) else { continue }
            var from = Date(timeIntervalSince1970: 1_767_225_600)
            for _ in 0..<2 {
                guard let change = zone.nextDaylightSavingTimeTransition(after: from) else { break }
                found.append((name, Int64(change.timeIntervalSince1970)))
                from = change
            }
        }
        return found
    }()

    static func field(_ values: [Int], every: Int, star: Bool) -> String {
        if star { return every > 1 ? "*/\(every)" : "*" }
        return Set(values).sorted().map(String.init).joined(separator: ",")
    }

    static let cases = zip(Gen.int(in: 0...59).array(of: 1...3), Gen.int(in: 0...23).array(of: 1...3), Gen.int(in: 0...9),
                           Gen.int(in: 1...28), Gen.int(in: 0...6).array(of: 1...2), Gen.int(in: 0...(transitions.count - 1)),
                           Gen.int(in: -3 * 1440...2 * 1440))
        .map { minutes, hours, shape, day, weekdays, transition, offset -> Case in
            // Hours near the changes (1-3 at night) are what the property is about; favour them.
            let hourField = shape % 3 == 0 ? "*" : field(hours.map { shape % 2 == 0 ? $0 % 4 : $0 }, every: 1, star: false)
            let minuteField = shape == 9 ? "*/\(max(1, minutes[0] % 20))" : field(minutes, every: 1, star: false)
            let dom = shape == 7 ? String(day) : "*"
            let dow = shape == 8 || shape == 7 ? field(weekdays, every: 1, star: false) : "*"
            let (zone, at) = transitions[transition]
            return Case(text: "\(minuteField) \(hourField) \(dom) * \(dow)", domRestricted: dom != "*", dowRestricted: dow != "*",
                        zone: zone, start: (at / 60 + Int64(offset)) * 60)
        }

    /// Year, month, day, weekday (0 = Sunday), hour and minute of a wall-clock time in seconds.
    static func civil(_ wall: Int64) -> (month: Int, day: Int, weekday: Int, hour: Int, minute: Int) {
        let days = Int(wall.floorDiv(86_400)), seconds = Int(wall - Int64(days) * 86_400)
        // Howard Hinnant's days-to-civil.
        let z = days + 719_468, era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097, yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9
        return (month, day, ((days % 7) + 11) % 7, seconds / 3600, seconds % 3600 / 60)
    }

    static func matches(_ cron: CronExpression, _ c: Case, wall: Int64) -> Bool {
        let t = civil(wall)
        guard cron.minutes.contains(t.minute), cron.hours.contains(t.hour), cron.months.contains(t.month) else { return false }
        let dom = cron.daysOfMonth.contains(t.day), dow = cron.daysOfWeek.contains(t.weekday)
        switch (c.domRestricted, c.dowRestricted) {
        case (true, true): return dom || dow
        case (true, false): return dom
        case (false, true): return dow
        case (false, false): return true
        }
    }

    /// The first minute after `c.start` at which the rule says the expression fires.
    static func walk(_ cron: CronExpression, _ c: Case, zone: TimeZone) -> Int64? {
        func offset(_ t: Int64) -> Int64 { Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(t)))) }
        var t = c.start + 60
        for _ in 0..<(40 * 1440) {
            let now = offset(t), before = offset(t - 7200)
            let wall = t + now
            if before > now, offset(t - (before - now)) == before {
                // The fall-back's second pass over these wall times: they fired the first time.
            } else if matches(cron, c, wall: wall) {
                return t
            }
            if now > before, offset(t - (now - before)) == before, matches(cron, c, wall: wall - (now - before)) {
                return t
            }
            t += 60
        }
        return nil
    }

    @Test func nextFireTimeIsTheWalksAcrossDaylightSaving() async throws {
        await propertyCheck(count: 300, input: Self.cases) { c in
            guard let cron = try? CronExpression(parsing: c.text), let zone = TimeZone(identifier: c.zone) else {
                Issue.record("\(c): did not parse")
                return
            }
            let expected = Self.walk(cron, c, zone: zone)
            let next = cron.next(after: Date(timeIntervalSince1970: TimeInterval(c.start)), in: zone).map { Int64($0.timeIntervalSince1970) }
            guard let expected else { return }  // beyond the walk's 40 days: not compared
            #expect(next == expected, "\(c): next \(next.map { Date(timeIntervalSince1970: TimeInterval($0)) }.map(String.init(describing:)) ?? "nil"), walk \(Date(timeIntervalSince1970: TimeInterval(expected)))")
        }
    }
}

extension Int64 {
    func floorDiv(_ d: Int64) -> Int64 { self >= 0 ? self / d : -((-self + d - 1) / d) }
}

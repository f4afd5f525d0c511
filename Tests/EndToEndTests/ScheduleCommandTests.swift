import Foundation
import Testing

@Suite("Schedules")
struct ScheduleCommandTests {
    @Test func listsScheduledJobsWithTheirNextFires() throws {
        let cli = try MLOpsBinary("""
            version: 1
            jobs:
              weekly:
                schedule: "0 6 * * MON"
                timezone: Europe/Madrid
                stages: { a: { uses: noop } }
              hourly:
                schedule: "@hourly"
                stages: { a: { uses: noop } }
              manual:
                stages: { a: { uses: noop } }
            """)
        defer { cli.remove() }
        let rows = try #require(try cli.json(["schedule", "--count", "3"]) as? [[String: Any]])
        #expect(rows.compactMap { $0["job"] as? String } == ["weekly", "hourly"])
        let weekly = try #require(rows.first)
        let next = try #require(weekly["next_ms"] as? [Int64])
        // Mondays at 06:00 in Madrid, a week apart (7 × 24 h; a DST change would make one 167 or 169 h).
        #expect(next.count == 3)
        for (a, b) in zip(next, next.dropFirst()) { #expect([167, 168, 169].contains((b - a) / 3_600_000)) }
        #expect((weekly["next"] as? [String])?.allSatisfy { $0.contains("T06:00:00") } == true)
        let table = try cli.run(["schedule"]).stdout
        #expect(table.contains("JOB") && table.contains("Europe/Madrid") && !table.contains("manual"))
    }
}

import ArgumentParser
import Foundation
import MLOpsCore

struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Jobs with a schedule and their next fire times, in each job's time zone.")

    @Option(help: "How many fire times to show per job.") var count = 1
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        let spec = try options.loadSpec()
        let now = Store.now()
        var rows: [(job: String, cron: String, zone: TimeZone, fires: [Date])] = []
        for job in spec.jobs {
            guard let cron = job.schedule else { continue }
            let zone = job.timezone.flatMap(TimeZone.init(identifier:)) ?? .current
            var fires: [Date] = []
            var after = now
            while fires.count < max(1, count), let next = cron.next(after: after, in: zone) {
                fires.append(next)
                after = next
            }
            rows.append((job.name, cron.source, zone, fires))
        }
        let formatter = ISO8601DateFormatter()
        if json {
            return printJSON(rows.map { row -> [String: Any] in
                formatter.timeZone = row.zone
                return ["job": row.job, "schedule": row.cron, "timezone": row.zone.identifier,
                        "next": row.fires.map { formatter.string(from: $0) }, "next_ms": row.fires.map { Int64($0.timeIntervalSince1970 * 1000) }]
            })
        }
        if rows.isEmpty {
            return Console.shared.write("no job has a `schedule:`; add one, e.g. schedule: \"0 6 * * MON\"\n")
        }
        var table = TextTable([.init("JOB"), .init("SCHEDULE"), .init("TIMEZONE"), .init("NEXT"), .init("IN", .right)])
        for row in rows {
            formatter.timeZone = row.zone
            formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withSpaceBetweenDateAndTime, .withTimeZone]
            for (i, fire) in row.fires.enumerated() {
                table.append([.init(i == 0 ? row.job : ""), .init(i == 0 ? row.cron : ""), .init(i == 0 ? row.zone.identifier : ""),
                              .init(formatter.string(from: fire)), .init(Self.until(fire.timeIntervalSince(now)))])
            }
        }
        Console.shared.write(table.render { Console.shared.paint($0, $1) })
    }

    /// `6d 15h`, `3h 20m`, `45m`.
    static func until(_ seconds: TimeInterval) -> String {
        let minutes = Int(seconds / 60)
        let (days, hours, mins) = (minutes / 1440, minutes % 1440 / 60, minutes % 60)
        if days > 0 { return "\(days)d \(hours)h" }
        return hours > 0 ? "\(hours)h \(mins)m" : "\(mins)m"
    }
}

import ArgumentParser
import Foundation
import MLOpsCore

struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Jobs with a schedule: the last fire and what became of it, and the next fire times, in each job's time zone.")

    @Option(help: "How many fire times to show per job.") var count = 1
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        let spec = try options.loadSpec()
        let now = WallClock.process.now()
        let store = try await reportingErrors { try options.openStore() }
        let last = try await reportingErrors { () -> [String: ScheduleBook.Fire] in
            var last: [String: ScheduleBook.Fire] = [:]
            for job in spec.jobs where job.schedule != nil { last[job.name] = try ScheduleBook.recent(store, job: job.name, limit: 1).first }
            return last
        }
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
                var object: [String: Any] = ["job": row.job, "schedule": row.cron, "timezone": row.zone.identifier,
                                             "next": row.fires.map { formatter.string(from: $0) },
                                             "next_ms": row.fires.map { Int64($0.timeIntervalSince1970 * 1000) }]
                if let fire = last[row.job] {
                    var lastFire: [String: Any] = ["time": formatter.string(from: Date(timeIntervalSince1970: Double(fire.time) / 1000)),
                                                   "time_ms": fire.time, "status": fire.status.rawValue]
                    if let run = fire.runID { lastFire["run_id"] = run }
                    if let detail = fire.detail { lastFire["detail"] = detail }
                    object["last_fire"] = lastFire
                }
                return object
            })
        }
        if rows.isEmpty {
            return Console.shared.write("no job has a `schedule:`; add one, e.g. schedule: \"0 6 * * MON\"\n")
        }
        var table = TextTable([.init("JOB"), .init("SCHEDULE"), .init("TIMEZONE"), .init("LAST FIRE"), .init("STATUS"), .init("RUN"),
                               .init("NEXT"), .init("IN", .right)])
        for row in rows {
            formatter.timeZone = row.zone
            formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withSpaceBetweenDateAndTime, .withTimeZone]
            let fire = last[row.job]
            let lastCells: [TextTable.Cell] = [
                .init(fire.map { formatter.string(from: Date(timeIntervalSince1970: Double($0.time) / 1000)) } ?? "-"),
                .init(fire?.status.rawValue ?? "-", color: fire.map { Self.color($0.status) } ?? .gray),
                .init(fire?.runID.map { String($0.prefix(8)) } ?? "-"),
            ]
            for (i, next) in row.fires.enumerated() {
                table.append([.init(i == 0 ? row.job : ""), .init(i == 0 ? row.cron : ""), .init(i == 0 ? row.zone.identifier : "")]
                             + (i == 0 ? lastCells : [.init(""), .init(""), .init("")])
                             + [.init(formatter.string(from: next)), .init(Self.until(next.timeIntervalSince(now)))])
            }
        }
        Console.shared.write(table.render { Console.shared.paint($0, $1) })
    }

    static func color(_ status: ScheduleBook.Status) -> Console.Color {
        switch status {
        case .started: .green
        case .queued: .cyan
        case .skipped, .missed: .yellow
        }
    }

    /// `6d 15h`, `3h 20m`, `45m`.
    static func until(_ seconds: TimeInterval) -> String {
        let minutes = Int(seconds / 60)
        let (days, hours, mins) = (minutes / 1440, minutes % 1440 / 60, minutes % 60)
        if days > 0 { return "\(days)d \(hours)h" }
        return hours > 0 ? "\(hours)h \(mins)m" : "\(mins)m"
    }
}

import Foundation
import MLOpsCore

/// `/jobs`: the spec's jobs with their schedules and next fire times (in each job's time zone),
/// the last fires and what became of them, and what the notification outbox still holds.
struct JobsPage {
    let view: WebView

    func render() throws -> String {
        let spec = try? SpecParser.load(path: view.workspace.specPath)
        let now = Date(timeIntervalSince1970: Double(view.store.nowMillis()) / 1000)
        var context: [String: Any] = ["title": "Jobs", "base": view.base, "nav": view.nav("Jobs")]
        context["jobs"] = (spec?.jobs ?? []).map { job in
            let zone = job.timezone.flatMap(TimeZone.init(identifier:)) ?? .current
            var next: [String] = []
            if let cron = job.schedule {
                var after = now
                while next.count < 3, let fire = cron.next(after: after, in: zone) {
                    next.append(Self.format(fire, zone))
                    after = fire
                }
            }
            return ["name": job.name, "filter": "attributes.job%20%3D%20'\(job.name)'", "schedule": job.schedule?.source ?? "",
                    "zone": job.schedule == nil ? "" : zone.identifier, "next": next, "concurrency": job.concurrency.rawValue,
                    "stages": job.stages.count] as [String: Any]
        }
        let fires = try ScheduleBook.recent(view.store, limit: 50)
        context["hasFires"] = !fires.isEmpty
        context["fires"] = fires.map { fire in
            ["job": fire.job, "time": Formatting.timestamp(millis: fire.time), "status": fire.status.rawValue, "run": fire.runID ?? "",
             "short": String((fire.runID ?? "").prefix(8)), "detail": fire.detail ?? ""] as [String: Any]
        }
        let waiting = try view.store.read { try Outbox.waiting($0) }
        context["outbox"] = waiting.count == 0 ? "Nothing waits to be delivered."
            : "\(waiting.count) notification\(waiting.count == 1 ? "" : "s") wait\(waiting.count == 1 ? "s" : "") to be delivered"
                + (waiting.next.map { "; the next attempt at \(Formatting.timestamp(millis: $0))" } ?? "") + "."
        return view.templates.render("jobs", context)
    }

    static func format(_ date: Date, _ zone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm zzz"
        return formatter.string(from: date)
    }
}

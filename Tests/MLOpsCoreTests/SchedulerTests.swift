import Foundation
import Testing
@testable import MLOpsCore

@Suite("Cron across daylight saving: no weekly run lost or doubled")
struct CronDaylightSavingTests {
    let madrid = TimeZone(identifier: "Europe/Madrid")!
    func utc(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test func aTimeTheSpringJumpSkipsFiresJustAfterTheJump() throws {
        // Sunday 2027-03-28: in Madrid 02:00 CET jumps to 03:00 CEST; 02:30 does not exist.
        let cron = try CronExpression(parsing: "30 2 * * SUN")
        let next = try #require(cron.next(after: utc("2027-03-27T12:00:00Z"), in: madrid))
        #expect(next == utc("2027-03-28T01:30:00Z")) // 03:30 CEST, an hour late rather than a week
        let after = try #require(cron.next(after: next, in: madrid))
        #expect(after == utc("2027-04-04T00:30:00Z")) // the week after, at 02:30 CEST
    }

    @Test func aTimeTheAutumnFallBackRepeatsFiresOnce() throws {
        // Sunday 2027-10-31: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice.
        let cron = try CronExpression(parsing: "30 2 * * SUN")
        let first = try #require(cron.next(after: utc("2027-10-30T12:00:00Z"), in: madrid))
        #expect(first == utc("2027-10-31T00:30:00Z")) // the first 02:30 (CEST)
        let second = try #require(cron.next(after: first, in: madrid))
        #expect(second == utc("2027-11-07T01:30:00Z")) // not the second 02:30 an hour later
    }

    @Test func weeklyFiresOverAYearAreFiftyTwoAndOnTheWallClock() throws {
        let cron = try CronExpression(parsing: "0 6 * * MON")
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = madrid
        var fires: [Date] = []
        var cursor = utc("2027-01-01T00:00:00Z")
        while let next = cron.next(after: cursor, in: madrid), next < utc("2028-01-01T00:00:00Z") {
            fires.append(next)
            cursor = next
        }
        #expect(fires.count == 52)
        #expect(fires.allSatisfy { calendar.component(.hour, from: $0) == 6 && calendar.component(.weekday, from: $0) == 2 })
    }
}

@Suite("Fire plans: catch-up none, latest, all")
struct FirePlanTests {
    let utc = TimeZone(identifier: "UTC")!
    let cron = try! CronExpression(parsing: "0 * * * *")
    let last = Date(timeIntervalSince1970: Double(1_800_000_000 - 1_800_000_000 % 3600))

    @Test func catchupPolicies() {
        let now = last.addingTimeInterval(3 * 3600 + 60) // three fires missed, the newest a minute late
        let latest = FirePlan.due(cron, in: utc, after: last, now: now, catchup: .latest)
        #expect(latest.start == [last.addingTimeInterval(3 * 3600)] && latest.missed.count == 2)
        let all = FirePlan.due(cron, in: utc, after: last, now: now, catchup: .all)
        #expect(all.start.count == 3 && all.missed.isEmpty)
        let none = FirePlan.due(cron, in: utc, after: last, now: now, catchup: .none)
        #expect(none.start.count == 1 && none.missed.count == 2)
        let stale = FirePlan.due(cron, in: utc, after: last, now: last.addingTimeInterval(3 * 3600 + 1200), catchup: .none)
        #expect(stale.start.isEmpty && stale.missed.count == 3)
        #expect(FirePlan.due(cron, in: utc, after: last, now: last.addingTimeInterval(600), catchup: .all) == FirePlan(start: [], missed: []))
    }
}

@Suite("The scheduler daemon on a real store")
struct SchedulerDaemonTests {
    static let spec = """
        version: 1
        jobs:
          hourly:
            schedule: "0 * * * *"
            timezone: UTC
            concurrency: forbid
            stages:
              work: { run: "true" }
        """

    func daemon(_ ws: TestWorkspace, _ spec: JobsFile, _ store: Store, since: Int64) -> SchedulerDaemon {
        SchedulerDaemon(workspace: ws.workspace, spec: spec, store: store, log: DaemonLog { _ in }, now: since)
    }

    @Test func twoDaemonsOnOneStoreStartEachFireOnce() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let spec = try SpecParser.parse(text: Self.spec, file: ws.workspace.specPath)
        let store = try Store(path: ws.workspace.storePath)
        let other = try Store(path: ws.workspace.storePath)
        let hour: Int64 = 3_600_000
        // One "now" for the whole test: read twice, it could fall either side of an hour (a run at
        // hh:59:59 once found a fourth fire due).
        let now = WallClock.process.nowMillis()
        let since = (now / hour - 3) * hour + 1
        let a = daemon(ws, spec, store, since: since), b = daemon(ws, spec, other, since: since)
        try await a.register()
        try await b.register()
        // Both find the same fires due (catch-up latest: the newest starts, the others are missed).
        async let first: Void = a.tick(now: now)
        async let second: Void = b.tick(now: now)
        _ = await (first, second)
        await a.waitIdle()
        await b.waitIdle()
        let fires = try ScheduleBook.recent(store, job: "hourly")
        #expect(fires.filter { $0.status == .started }.count == 1)
        #expect(fires.filter { $0.status == .missed }.count == 2)
        #expect(try ws.count("SELECT COUNT(*) FROM runs WHERE kind = 'job' AND trigger = 'schedule'") == 1)
        #expect(try ws.count("SELECT COUNT(*) FROM runs WHERE status = 'RUNNING'") == 0)
        await a.stop(grace: .zero)
        await b.stop(grace: .zero)
        #expect(try ws.count("SELECT COUNT(*) FROM scheduler_daemons WHERE status = 'stopped'") == 2)
    }

    /// An hourly job whose stage waits for a `go` file, under the given concurrency.
    static func waiting(_ concurrency: String) -> String {
        """
        version: 1
        jobs:
          hourly:
            schedule: "0 * * * *"
            timezone: UTC
            concurrency: \(concurrency)
            stages:
              work: { shell: true, run: 'while [ ! -f go ]; do sleep 0.05; done', kill_grace: 1s }
        """
    }

    /// Ticks at the first fire, then at the next one while the first run is still going.
    func twoFires(_ concurrency: String) async throws -> (TestWorkspace, Store, SchedulerDaemon, first: Int64, second: Int64) {
        let ws = try TestWorkspace(Self.waiting(concurrency))
        let spec = try ws.spec()
        let store = try ws.store()
        let hour: Int64 = 3_600_000
        let first = (WallClock.process.nowMillis() / hour - 3) * hour
        let a = daemon(ws, spec, store, since: first - 1)
        try await a.register()
        await a.tick(now: first + 1_000)
        await a.tick(now: first + hour + 1_000)
        return (ws, store, a, first, first + hour)
    }

    @Test func queueHoldsTheNextFireUntilTheRunEndsThenStartsIt() async throws {
        let (ws, store, a, first, second) = try await twoFires("queue")
        defer { ws.remove() }
        var fires = try ScheduleBook.recent(store, job: "hourly")
        #expect(fires.map(\.status) == [.queued, .started])
        #expect(fires.map(\.time) == [second, first])
        try ws.write("go", "")
        while try ws.count("SELECT COUNT(*) FROM runs WHERE kind = 'job' AND status = 'RUNNING'") > 0 { try await Task.sleep(for: .milliseconds(20)) }
        await a.tick(now: second + 2_000)
        await a.waitIdle()
        fires = try ScheduleBook.recent(store, job: "hourly")
        #expect(fires.map(\.status) == [.started, .started])
        #expect(Set(fires.compactMap(\.runID)).count == 2)
        #expect(try ws.count("SELECT COUNT(*) FROM runs WHERE kind = 'job' AND status = 'FINISHED'") == 2)
        await a.stop(grace: .zero)
    }

    @Test func replaceStopsTheRunningRunAndStartsTheNewFire() async throws {
        let (ws, store, a, _, second) = try await twoFires("replace")
        defer { ws.remove() }
        // The first run was cancelled when the second fire queued; once it has ended, the fire starts.
        while try ws.count("SELECT COUNT(*) FROM runs WHERE kind = 'job' AND status = 'RUNNING'") > 0 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(try ws.count("SELECT COUNT(*) FROM runs WHERE kind = 'job' AND status = 'KILLED'") == 1)
        await a.tick(now: second + 2_000)
        try ws.write("go", "")
        await a.waitIdle()
        let fires = try ScheduleBook.recent(store, job: "hourly")
        #expect(fires.map(\.status) == [.started, .started])
        #expect(try ws.count("SELECT COUNT(*) FROM runs WHERE kind = 'job' AND status = 'FINISHED'") == 1)
        await a.stop(grace: .zero)
    }

    @Test func forbidSkipsTheFireWhileTheRunIsGoing() async throws {
        let (ws, store, a, _, _) = try await twoFires("forbid")
        defer { ws.remove() }
        let fires = try ScheduleBook.recent(store, job: "hourly")
        #expect(fires.map(\.status) == [.skipped, .started])
        #expect(fires.first?.detail?.contains("concurrency: forbid") == true)
        try ws.write("go", "")
        await a.waitIdle()
        #expect(try ws.count("SELECT COUNT(*) FROM runs WHERE kind = 'job'") == 1)
        await a.stop(grace: .zero)
    }
}

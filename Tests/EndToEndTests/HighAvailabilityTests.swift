import Foundation
import Testing

/// Two `mlops scheduler` daemons on two hosts (network namespaces) against one PostgreSQL
/// database: each fire starts once; a host that dies mid-stage has its run resumed once by the
/// other after the heartbeat window; a host cut off from the database stops its stage (fencing)
/// before the other takes the run over, so no stage ever runs twice at once.
@Suite("High availability: two schedulers on two hosts", .serialized)
struct HighAvailabilityTests {
    static let window = "4000"

    /// A virtual clock set `lead` before the next minute.
    static func justBeforeTheMinute(byMillis lead: Int64 = 1_500) -> [String: String] {
        let wall = Int64(Date().timeIntervalSince1970 * 1000)
        let target = (wall / 60_000 + 1) * 60_000 - lead
        return ["MLOPS_TIME_OFFSET_MS": String(target - wall)]
    }

    static func lines(_ cli: MLOpsBinary, _ file: String) -> [[String]] {
        ((try? cli.read(file)) ?? "").split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
    }

    static func jobRuns(_ cli: MLOpsBinary, _ url: String, _ clock: [String: String]) throws -> [[String: Any]] {
        let out = try cli.run(["runs", "--kind", "job", "--json"], environment: clock.merging(["MLOPS_TRACKING": url, "MLOPS_HEARTBEAT_WINDOW": window]) { $1 })
        return (try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]]) ?? []
    }

    func daemons(_ hosts: TestHosts, _ cli: MLOpsBinary, database: String, clock: [String: String]) throws -> [MLOpsBinary.Running] {
        try (0..<hosts.count).map { i in
            try hosts.start(cli, on: i, ["scheduler", "--tick", "100ms"],
                            environment: clock.merging(["MLOPS_TRACKING": hosts.url(database, from: i), "MLOPS_HEARTBEAT_WINDOW": Self.window]) { $1 })
        }
    }

    func stop(_ hosts: TestHosts, _ daemons: [MLOpsBinary.Running]) -> String {
        for daemon in daemons { if let first = hosts.firstProcess(of: daemon) { kill(first, SIGTERM) } }
        return daemons.map { $0.wait().stderr }.joined(separator: "\n")
    }

    @Test func eachFireOfAOneMinuteScheduleStartsOnce() throws {
        guard let hosts = try TestHosts.make() else { return }
        try hosts.createDatabase("fires")
        let cli = try MLOpsBinary("""
            version: 1
            jobs:
              every:
                schedule: "* * * * *"
                timezone: UTC
                stages:
                  a: { shell: true, run: 'echo "$(hostname) $MLOPS_PARENT_RUN_ID" >> "$MLOPS_WORKSPACE/fires.log"' }
            """)
        defer { cli.remove() }
        let clock = Self.justBeforeTheMinute()
        let running = try daemons(hosts, cli, database: "fires", clock: clock)
        #expect(MLOpsBinary.eventually(80) { Self.lines(cli, "fires.log").count >= 2 }, "\(running.map { $0.stderrSoFar() })")
        sleep(2)
        let log = stop(hosts, running)
        let fires = Self.lines(cli, "fires.log")
        #expect(fires.count == 2 && Set(fires.map { $0[1] }).count == 2, "\(fires)\n\(log)")
        let runs = try Self.jobRuns(cli, hosts.localURL("fires"), clock)
        #expect(runs.count == 2 && runs.allSatisfy { $0["status"] as? String == "FINISHED" }, "\(runs)")
    }

    static let resumable = """
        version: 1
        jobs:
          nightly:
            schedule: "0 6 * * *"
            timezone: UTC
            stages:
              prepare: { run: echo prepared }
              work:
                needs: [prepare]
                shell: true
                run: |
                  log="$MLOPS_WORKSPACE/work.log"
                  trap 'echo "term $(hostname) $(date +%s%N)" >> "$log"; exit 143' TERM
                  echo "start $(hostname) $(date +%s%N)" >> "$log"
                  sleep 5 & wait $!
                  echo "end $(hostname) $(date +%s%N)" >> "$log"
        """

    /// Both daemons on `resumable`'s workspace, until one host has started `work`: which one.
    struct Started {
        let cli: MLOpsBinary
        let clock: [String: String]
        let running: [MLOpsBinary.Running]
        let victim: Int
    }

    func startWork(_ hosts: TestHosts, database: String) throws -> Started {
        try hosts.createDatabase(database)
        let cli = try MLOpsBinary(Self.resumable)
        let clock = SchedulerProcessTests.justBeforeSix()
        let running = try daemons(hosts, cli, database: database, clock: clock)
        #expect(MLOpsBinary.eventually(20) { Self.lines(cli, "work.log").count >= 1 }, "\(running.map { $0.stderrSoFar() })")
        let first = try #require(Self.lines(cli, "work.log").first)
        return Started(cli: cli, clock: clock, running: running, victim: try #require(Int(first[1].dropFirst("host-".count))))
    }

    @Test func aHostThatDiesMidStageHasItsRunResumedOnceByTheOther() throws {
        guard let hosts = try TestHosts.make() else { return }
        let started = try startWork(hosts, database: "dies")
        let (cli, clock, running, victim) = (started.cli, started.clock, started.running, started.victim)
        defer { cli.remove() }
        hosts.kill(host: running[victim])
        let killed = Int64(Date().timeIntervalSince1970 * 1e9)
        #expect(MLOpsBinary.eventually(30) { Self.lines(cli, "work.log").contains { $0[0] == "end" } }, "\(running.map { $0.stderrSoFar() })")
        let log = stop(hosts, running)
        let work = Self.lines(cli, "work.log")
        let starts = work.filter { $0[0] == "start" }, ends = work.filter { $0[0] == "end" }
        #expect(starts.count == 2 && ends.count == 1, "\(work)\n\(log)")
        #expect(ends.first?[1] == hosts.hostName(1 - victim) && starts.last?[1] == hosts.hostName(1 - victim), "\(work)")
        #expect((starts.last.flatMap { Int64($0[2]) } ?? 0) > killed, "the stage ran again before its first host died: \(work)")
        let runs = try Self.jobRuns(cli, hosts.localURL("dies"), clock)
        #expect(runs.map { $0["status"] as? String ?? "" }.sorted() == ["FAILED", "FINISHED"], "\(runs)")
    }

    @Test func aHostCutOffStopsItsStageBeforeTheOtherTakesTheRunOver() throws {
        guard let hosts = try TestHosts.make() else { return }
        let started = try startWork(hosts, database: "cut")
        let (cli, running, victim) = (started.cli, started.running, started.victim)
        defer { cli.remove() }
        try hosts.cut(victim)
        #expect(MLOpsBinary.eventually(30) { Self.lines(cli, "work.log").contains { $0[0] == "end" } }, "\(running.map { $0.stderrSoFar() })")
        let log = stop(hosts, running)
        let work = Self.lines(cli, "work.log")
        let term = work.first { $0[0] == "term" }, resumed = work.last { $0[0] == "start" }
        #expect(term?[1] == hosts.hostName(victim), "the cut-off host's stage was not stopped: \(work)\n\(log)")
        #expect(resumed?[1] == hosts.hostName(1 - victim), "\(work)")
        #expect((Int64(term?[2] ?? "") ?? .max) < (Int64(resumed?[2] ?? "") ?? 0), "two copies of the stage ran at once: \(work)")
        #expect(work.filter { $0[0] == "start" }.count == 2, "\(work)")
    }
}

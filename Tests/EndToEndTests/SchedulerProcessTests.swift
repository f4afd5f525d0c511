import Foundation
import Testing

/// The `mlops scheduler` process itself: killed without a word mid-run, stopped by SIGTERM with a
/// stage running, and its concurrency rules, each with the real binary in a temporary workspace.
@Suite("The scheduler daemon as a process")
struct SchedulerProcessTests {
    /// A daily 06:00 UTC job with these stages (YAML, as under `stages:`).
    static func nightly(_ stages: String) -> String {
        "version: 1\njobs:\n  nightly:\n    schedule: \"0 6 * * *\"\n    timezone: UTC\n    stages:\n"
            + stages.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n") + "\n"
    }

    /// A virtual clock (the one `mlops simulate` moves) set just before tomorrow's 06:00 UTC, so a
    /// daily 06:00 fire comes due a second after the daemon starts.
    static func justBeforeSix(byMillis lead: Int64 = 1_500) -> [String: String] {
        let day: Int64 = 86_400_000
        let wall = Int64(Date().timeIntervalSince1970 * 1000)
        let target = (wall / day + 1) * day + 6 * 3_600_000 - lead
        return ["MLOPS_TIME_OFFSET_MS": String(target - wall)]
    }

    /// The job runs, read on the daemon's clock (a reader that closes an orphan stamps its end).
    static func jobRuns(_ cli: MLOpsBinary, _ clock: [String: String]) throws -> [[String: Any]] {
        let output = try cli.run(["runs", "--kind", "job", "--json"], environment: clock)
        return try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[String: Any]])
    }

    static func pid(_ cli: MLOpsBinary, _ file: String) -> Int32? {
        guard let text = try? cli.read(file), text.hasSuffix("\n") else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func aDaemonKilledMidRunIsResumedByTheNextFromItsFailedStage() throws {
        let cli = try MLOpsBinary(Self.nightly("""
            prepare: { shell: true, run: 'echo prepared >> prepare.log' }
            work:
              needs: [prepare]
              shell: true
              run: 'if [ -f work.started ]; then echo resumed; else touch work.started; echo $$ > work.pid; sleep 60; fi'
            """))
        defer { cli.remove() }
        let clock = Self.justBeforeSix()
        let first = try cli.start(["scheduler", "--tick", "200ms"], environment: clock)
        #expect(MLOpsBinary.eventually(20) { Self.pid(cli, "work.pid") != nil }, "\(first.stderrSoFar())")
        let stagePID = try #require(Self.pid(cli, "work.pid"))
        kill(first.pid, SIGKILL)
        _ = first.wait()

        // The next daemon finds the fire's run orphaned, stops its stage and resumes it: `prepare`
        // is reused, `work` runs again and finishes.
        let second = try cli.start(["scheduler", "--tick", "200ms"], environment: clock)
        #expect(MLOpsBinary.eventually(20) { (try? Self.jobRuns(cli, clock))?.contains { $0["status"] as? String == "FINISHED" } ?? false },
                "\(second.stderrSoFar())")
        kill(second.pid, SIGTERM)
        let output = second.wait()
        #expect(output.status == 0, "\(output.stderr)")
        // Whoever noticed the dead runner first (this daemon or the `mlops runs` above) closed the
        // orphan; the daemon resumes the fire either way.
        #expect(output.stderr.contains("why=resume"), "\(output.stderr)")
        #expect(MLOpsBinary.eventually(5) { !isAlive(stagePID) })

        let runs = try Self.jobRuns(cli, clock)
        #expect(runs.count == 2)
        let orphan = try #require(runs.first { $0["status"] as? String == "FAILED" })
        #expect(orphan["outcome"] as? String == "orphaned")
        let resumed = try #require(runs.first { $0["status"] as? String == "FINISHED" })
        #expect(resumed["trigger"] as? String == "schedule")
        let show = try #require(try cli.json(["runs", "show", resumed["run_id"] as! String]) as? [String: Any])
        #expect((show["tags"] as? [String: String])?["mlops.resumed_from"] == orphan["run_id"] as? String)
        #expect(try cli.read("prepare.log") == "prepared\n") // reused, not run twice
        #expect(!(try cli.run(["runs", "--json"]).stdout.contains("RUNNING")))

        // The schedule shows the one fire, now pointing at the resumed run.
        let schedule = try #require(try cli.json(["schedule"]) as? [[String: Any]])
        let last = try #require(schedule.first?["last_fire"] as? [String: Any])
        #expect(last["status"] as? String == "started" && last["run_id"] as? String == resumed["run_id"] as? String)
    }

    @Test func sigtermLetsAStageFinishWithinTheGrace() throws {
        let cli = try MLOpsBinary(Self.nightly("short: { shell: true, run: 'echo $$ > short.pid; sleep 1; echo done > short.out' }"))
        defer { cli.remove() }
        let clock = Self.justBeforeSix()
        let daemon = try cli.start(["scheduler", "--tick", "200ms", "--grace", "30s"], environment: clock)
        #expect(MLOpsBinary.eventually(20) { Self.pid(cli, "short.pid") != nil }, "\(daemon.stderrSoFar())")
        kill(daemon.pid, SIGTERM)
        let output = daemon.wait()
        #expect(output.status == 0, "\(output.stderr)")
        #expect(try cli.read("short.out") == "done\n")
        #expect(try Self.jobRuns(cli, clock).map { $0["status"] as? String } == ["FINISHED"])
        #expect(output.stderr.contains("daemon_stopping") && output.stderr.contains("daemon_stopped"))
    }

    @Test func sigtermStopsAStageThatOutlivesTheGraceAndLeavesNothingRunning() throws {
        let cli = try MLOpsBinary(Self.nightly("long: { shell: true, run: 'echo $$ > long.pid; sleep 60', kill_grace: 2s }"))
        defer { cli.remove() }
        let clock = Self.justBeforeSix()
        let daemon = try cli.start(["scheduler", "--tick", "200ms", "--grace", "500ms"], environment: clock)
        #expect(MLOpsBinary.eventually(20) { Self.pid(cli, "long.pid") != nil }, "\(daemon.stderrSoFar())")
        let stagePID = try #require(Self.pid(cli, "long.pid"))
        kill(daemon.pid, SIGTERM)
        let output = daemon.wait()
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stderr.contains("grace period over"))
        #expect(!isAlive(stagePID))
        #expect(try Self.jobRuns(cli, clock).map { $0["status"] as? String } == ["KILLED"])
        #expect(!(try cli.run(["runs", "--json"]).stdout.contains("RUNNING")))
    }
}

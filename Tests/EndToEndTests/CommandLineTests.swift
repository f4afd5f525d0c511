import Foundation
import Testing

@Suite("mlops, the built binary, in a temporary workspace")
struct CommandLineTests {
    static let pipeline = """
        version: 1
        jobs:
          weekly:
            params: { top_k: 100 }
            stages:
              ingest: { run: echo ingesting }
              train:
                needs: [ingest]
                shell: true
                run: |
                  mlops log metric auc 0.83
                  mlops log param l2 1.0
                  mlops log tag owner growth
                  echo model > model.txt && mlops log artifact model.txt
                  echo trained
              score: { needs: [train], run: "echo scoring ${params.top_k}" }
        """

    @Test func versionAndHelp() throws {
        let cli = try MLOpsBinary()
        defer { cli.remove() }
        let version = try cli.run(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
        #expect(try cli.run(["--help"]).stdout.contains("runs"))
    }

    @Test func aTrackingURLThatIsNotHTTPIsRefusedBeforeAnythingRuns() throws {
        let cli = try MLOpsBinary("version: 1\njobs:\n  j:\n    stages:\n      a: { run: \"true\" }\n")
        defer { cli.remove() }
        let refused = try cli.run(["run", "j", "--tracking-url", "localhost:5000"])
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("--tracking-url 'localhost:5000' is not an http(s) URL"))
        #expect(try cli.run(["runs", "--json"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
    }

    @Test func validateReportsEveryErrorAndExitsNonZero() throws {
        let cli = try MLOpsBinary("""
            version: 1
            jobs:
              j:
                stages:
                  a: { run: echo, retries: -1 }
                  b: { needs: [c], run: echo }
            """)
        defer { cli.remove() }
        let output = try cli.run(["validate"])
        #expect(output.status == 2)
        let path = cli.root + "/jobs.yaml"
        #expect(output.stderr == """
            \(path):5:32: error: -1 is below the minimum 0 (at jobs.j.stages.a.retries)
            \(path):6:20: error: stage 'b' needs unknown stage 'c' (at jobs.j.stages.b.needs[0])
                hint: stages of this job: a, b
            2 errors in spec

            """)
        try cli.write("jobs.yaml", Self.pipeline)
        let ok = try cli.run(["validate"])
        #expect(ok.status == 0)
        #expect(ok.stdout.hasSuffix("ok: 1 job, 3 stages, 0 monitors\n"))
        #expect(try cli.run(["validate", "missing.yaml"]).status == 2)
    }

    @Test func planShowsLayersAndDot() throws {
        let cli = try MLOpsBinary(Self.pipeline)
        defer { cli.remove() }
        let plan = try cli.run(["plan", "weekly"])
        #expect(plan.status == 0)
        #expect(plan.stdout.contains("weekly: 3 stages in 3 layers"))
        let dot = try cli.run(["plan", "weekly", "--dot"])
        #expect(dot.stdout.contains("\"ingest\" -> \"train\";"))
        let unknown = try cli.run(["plan", "weeky"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("did you mean 'weekly'?"))
    }

    @Test func aRunIsRecordedAndInspectable() throws {
        let cli = try MLOpsBinary(Self.pipeline)
        defer { cli.remove() }
        let run = try cli.run(["run", "weekly", "--param", "top_k=7"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("score  | scoring 7"))
        #expect(run.stderr.contains("weekly FINISHED"))

        let runs = try #require(try cli.json(["runs"]) as? [[String: Any]])
        #expect(runs.count == 1)
        let id = try #require(runs[0]["run_id"] as? String)
        #expect(runs[0]["status"] as? String == "FINISHED")
        #expect((runs[0]["metrics"] as? [String: Double])?["auc"] == 0.83)

        let show = try #require(try cli.json(["runs", "show", String(id.prefix(6))]) as? [String: Any])
        let stages = try #require(show["stages"] as? [[String: Any]])
        #expect(stages.map { $0["stage"] as? String } == ["ingest", "train", "score"])
        let train = stages[1]
        #expect((train["params"] as? [String: String]) == ["l2": "1.0"])
        #expect((train["tags"] as? [String: String])?["owner"] == "growth")
        #expect((train["artifacts"] as? [String]) == ["model.txt"])
        #expect(train["exit_code"] as? Int == 0)
        #expect((show["params"] as? [String: String])?["top_k"] == "7")

        let table = try cli.run(["runs"])
        #expect(table.stdout.hasPrefix("RUN "))
        #expect(table.stdout.contains(String(id.prefix(8))))
        let logs = try cli.run(["runs", "logs", String(id.prefix(8)), "--stage", "train"])
        #expect(logs.stdout == "train | trained\n")
    }

    @Test func filtersAndTheirErrors() throws {
        let cli = try MLOpsBinary(Self.pipeline)
        defer { cli.remove() }
        #expect(try cli.run(["run", "weekly", "-q"]).status == 0)
        #expect(try cli.run(["run", "weekly", "-q", "--trigger", "schedule"]).status == 0)
        let scheduled = try #require(try cli.json(["runs", "--filter", "metrics.auc > 0.8 and params.l2 = '1.0' and tags.mlops.trigger = 'schedule'"]) as? [[String: Any]])
        #expect(scheduled.count == 1)
        #expect(scheduled.first?["trigger"] as? String == "schedule")
        let bad = try cli.run(["runs", "--filter", "metrics.auc > 0.8 and"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("invalid filter at column 22: expected a comparison after AND"))
        #expect(bad.stderr.contains("                     ^"))
    }

    @Test func aFailedStageExitsOneAndRerunFixesIt() throws {
        let cli = try MLOpsBinary("""
            version: 1
            jobs:
              j:
                stages:
                  a: { run: echo a }
                  b: { needs: [a], shell: true, run: 'test -f ok || { echo "no ok file" >&2; exit 4; }' }
            """)
        defer { cli.remove() }
        let failed = try cli.run(["run", "j"])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("b exit code 4"))
        #expect(failed.stderr.contains("b | no ok file"))
        let runs = try #require(try cli.json(["runs"]) as? [[String: Any]])
        let id = try #require(runs.first?["run_id"] as? String)
        try cli.write("ok", "")
        let rerun = try cli.run(["run", "j", "--rerun", String(id.prefix(8)), "--only-failed"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stderr.contains("a reused"))
        #expect(try cli.run(["run", "j", "--only-failed"]).status != 0)
    }

    @Test func sigtermStopsStagesAndNothingStaysRunning() throws {
        let cli = try MLOpsBinary("""
            version: 1
            jobs:
              j:
                stages:
                  long: { shell: true, run: 'echo $$ > stage.pid; sleep 30', kill_grace: 2s }
            """)
        defer { cli.remove() }
        let running = try cli.start(["run", "j"])
        #expect(MLOpsBinary.eventually { FileManager.default.fileExists(atPath: cli.root + "/stage.pid") && ((try? cli.read("stage.pid"))?.hasSuffix("\n") ?? false) })
        kill(running.pid, SIGTERM)
        let output = running.wait()
        #expect(output.status == 143)
        let pid = try #require(Int32(try cli.read("stage.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(!isAlive(pid))
        let runs = try #require(try cli.json(["runs"]) as? [[String: Any]])
        #expect(runs.first?["status"] as? String == "KILLED")
        let show = try #require(try cli.json(["runs", "show", runs[0]["run_id"] as! String]) as? [String: Any])
        #expect((show["stages"] as? [[String: Any]])?.first?["status"] as? String == "KILLED")
    }

    @Test func aSecondSignalKillsAStageThatIgnoresTerm() throws {
        let cli = try MLOpsBinary("""
            version: 1
            jobs:
              j:
                stages:
                  stubborn: { shell: true, run: 'trap "" TERM; echo $$ > stage.pid; while true; do sleep 1; done', kill_grace: 5m }
            """)
        defer { cli.remove() }
        let running = try cli.start(["run", "j"])
        #expect(MLOpsBinary.eventually { (try? cli.read("stage.pid"))?.hasSuffix("\n") ?? false })
        kill(running.pid, SIGINT)
        #expect(MLOpsBinary.eventually { running.stderrSoFar().contains("signal again to KILL now") })
        kill(running.pid, SIGINT)
        let output = running.wait()
        #expect(output.status == 130)
        let pid = try #require(Int32(try cli.read("stage.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(!isAlive(pid))
        let runs = try #require(try cli.json(["runs"]) as? [[String: Any]])
        #expect(runs.first?["status"] as? String == "KILLED")
    }

    @Test func logsFollowPrintsUntilTheRunEnds() throws {
        let cli = try MLOpsBinary("""
            version: 1
            jobs:
              j:
                stages:
                  a: { shell: true, run: 'echo first; while [ ! -f go ]; do sleep 0.05; done; echo second' }
            """)
        defer { cli.remove() }
        let running = try cli.start(["run", "j", "-q"])
        var id = ""
        #expect(MLOpsBinary.eventually {
            id = ((try? cli.json(["runs"]) as? [[String: Any]])?.first?["run_id"] as? String) ?? ""
            return !id.isEmpty
        })
        let follow = try cli.start(["runs", "logs", id, "--follow"])
        usleep(300_000)
        try cli.write("go", "")
        let output = follow.wait()
        #expect(output.status == 0)
        #expect(output.stdout == "a | first\na | second\n")
        #expect(running.wait().status == 0)
    }

    @Test func concurrencyForbidRefusesThenTakesOverFromAKilledRunner() throws {
        let cli = try MLOpsBinary("""
            version: 1
            jobs:
              j:
                stages:
                  long: { shell: true, run: 'echo $$ > stage.pid; sleep 30' }
            """)
        defer { cli.remove() }
        let first = try cli.start(["run", "j"])
        #expect(MLOpsBinary.eventually { (try? cli.read("stage.pid"))?.hasSuffix("\n") ?? false })
        let refused = try cli.run(["run", "j"])
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("job 'j' is already running"))

        // The runner dies without a word; its stage lives on in its own process group.
        kill(first.pid, SIGKILL)
        _ = first.wait()
        let stagePID = try #require(Int32(try cli.read("stage.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(isAlive(stagePID))

        // `mlops runs` notices the dead runner: the run is orphaned, not RUNNING for ever, and its stage is stopped.
        let runs = try #require(try cli.json(["runs"]) as? [[String: Any]])
        #expect(runs.first?["status"] as? String == "FAILED")
        #expect(runs.first?["outcome"] as? String == "orphaned")
        #expect(MLOpsBinary.eventually { !isAlive(stagePID) })

        try cli.write("jobs.yaml", "version: 1\njobs:\n  j:\n    stages:\n      quick: { run: echo done }\n")
        let next = try cli.run(["run", "j"])
        #expect(next.status == 0, "\(next.stderr)")
    }

    /// The README's main job, from the repository's own jobs.yaml, on a smaller customer base.
    @Test func theRepositorysMainJobRuns() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let cli = try MLOpsBinary(try String(contentsOf: repository.appendingPathComponent("jobs.yaml"), encoding: .utf8))
        defer { cli.remove() }
        #expect(try cli.run(["validate"]).status == 0)
        let run = try cli.run(["run", "weekly-propensity", "--param", "customers=800", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        let runs = try #require(try cli.json(["runs", "--metric", "auc"]) as? [[String: Any]])
        let metrics = try #require(runs.first?["metrics"] as? [String: Any])
        #expect((metrics["auc"] as? Double ?? 0) > 0.7)
        #expect(metrics["gate_passed"] as? Double == 1)
        #expect(metrics["contacted"] as? Double == 500)
        let models = try #require(try cli.json(["models"]) as? [[String: Any]])
        #expect(models.first?["name"] as? String == "propensity")
        #expect((models.first?["aliases"] as? [String: Int]) == ["champion": 1])
        let card = try #require(try cli.json(["models", "show", "propensity@champion"]) as? [String: Any])
        #expect(card["integrity"] as? String == "ok")
        #expect((card["metrics"] as? [String: Double])?["auc"] != nil)
        let unknown = try cli.run(["models", "show", "propensty"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("did you mean 'propensity'?"))
    }

    @Test func loggingOutsideAStageSaysWhatToDo() throws {
        let cli = try MLOpsBinary(Self.pipeline)
        defer { cli.remove() }
        let output = try cli.run(["log", "metric", "auc", "0.9"])
        #expect(output.status == 2)
        #expect(output.stderr.contains("run this inside a stage"))
        let notNumber = try cli.run(["log", "metric", "auc", "high", "--run", "abc"])
        #expect(notNumber.status == 2)
        #expect(notNumber.stderr.contains("'high' is not a number"))
    }

    @Test func emptyStoreAndUnknownRun() throws {
        let cli = try MLOpsBinary(Self.pipeline)
        defer { cli.remove() }
        let empty = try cli.run(["runs"])
        #expect(empty.status == 0)
        #expect(empty.stdout == "no runs yet: `mlops run JOB` starts one\n")
        let unknown = try cli.run(["runs", "show", "abcdef"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no run matches 'abcdef'"))
        let badJob = try cli.run(["run", "wekly"])
        #expect(badJob.status == 2)
        #expect(badJob.stderr.contains("did you mean 'weekly'?"))
    }
}

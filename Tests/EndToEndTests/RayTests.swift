import Foundation
import MLOpsCore
import Testing

/// `executor: ray` against a real Ray head (`scripts/ray start`, MLOPS_TEST_RAY): real jobs that
/// succeed, fail with their exit code, time out and end STOPPED, log to MLflow from the cluster,
/// and a runner killed with kill -9 whose job the next `mlops run` reattaches to. SKIPPED without a
/// head, except under CI (MLOPS_REQUIRE_RAY=1), where it must run.
@Suite("Stages on a real Ray head")
struct RayTests {
    static func head(_ test: String = #function) -> String? {
        if let url = ProcessInfo.processInfo.environment["MLOPS_TEST_RAY"], !url.isEmpty { return url }
        #expect(ProcessInfo.processInfo.environment["MLOPS_REQUIRE_RAY"]?.isEmpty ?? true, "MLOPS_REQUIRE_RAY is set but MLOPS_TEST_RAY is not")
        print("SKIPPED: \(test) needs a Ray head (eval \"$(scripts/ray start)\")")
        return nil
    }

    /// A workspace whose jobs run on the head, with `job/` as their working directory.
    static func workspace(_ head: String, stages: String, script: String) throws -> MLOpsBinary {
        let cli = try MLOpsBinary("""
            version: 1
            executors:
              ray: { address: "\(head)", working_dir: job }
            jobs:
              r:
                executor: ray
                stages:
            \(stages)
            """)
        try FileManager.default.createDirectory(atPath: cli.root + "/job", withIntermediateDirectories: true)
        try cli.write("job/stage.py", script)
        return cli
    }

    /// What the head says of a job.
    static func status(_ head: String, _ id: String) throws -> String? {
        let data = try Data(contentsOf: URL(string: "\(head)/api/jobs/\(id)")!)
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["status"] as? String
    }

    static let script = """
        import os, sys, time
        print("stage", os.environ["MLOPS_STAGE"], "attempt", os.environ["MLOPS_ATTEMPT"], "n", os.environ.get("MLOPS_PARAM_N"), flush=True)
        if os.environ.get("SLEEP"):
            for i in range(int(os.environ["SLEEP"])):
                print("tick", i, flush=True)
                time.sleep(1)
        if os.environ.get("LOG_METRIC"):
            import mlflow
            mlflow.log_metric("auc", 0.75)
            mlflow.log_param("from", "ray")
            with open("report.txt", "w") as f:
                f.write("made on the cluster\\n")
            mlflow.log_artifact("report.txt")
            print("artifact_uri", mlflow.get_run(os.environ["MLOPS_RUN_ID"]).info.artifact_uri, flush=True)
        sys.exit(int(os.environ.get("CODE", "0")))
        """

    @Test func aJobSucceedsAndAFailureKeepsItsExitCodeAndRaysErrorType() throws {
        guard let head = Self.head() else { return }
        let cli = try Self.workspace(head, stages: """
                  ok: { run: python stage.py, env: { N: "1" } }
                  bad: { run: python stage.py, needs: [ok], env: { CODE: "3" }, retries: 1, retry_delay: 100ms }
            """, script: Self.script)
        defer { cli.remove() }
        let out = try cli.run(["run", "r"])
        #expect(out.status == 1, "\(out.stderr)")
        #expect(out.stdout.contains("ok  | stage ok attempt 1"), "the job's log, echoed with the stage's prefix")
        #expect(out.stdout.contains("bad | stage bad attempt 2"), "a retry is a new submission")
        let runs = try #require(try cli.json(["runs", "--kind", "stage"]) as? [[String: Any]])
        let bad = runs.filter { $0["stage"] as? String == "bad" }
        #expect(bad.count == 2)
        #expect(bad.allSatisfy { $0["exit_code"] as? Int == 3 && ($0["message"] as? String)?.contains("JOB_ENTRYPOINT_COMMAND_ERROR") == true })
        let ok = try #require(runs.first { $0["stage"] as? String == "ok" })
        let log = try cli.read("experiments/r/\(ok["run_id"] as? String ?? "")/stdout.log")
        #expect(log.contains("stage ok attempt 1"))
    }

    @Test func aTimeoutStopsTheRayJobAndItEndsStopped() throws {
        guard let head = Self.head() else { return }
        let cli = try Self.workspace(head, stages: "      slow: { run: python stage.py, env: { SLEEP: \"60\" }, timeout: 3s }", script: Self.script)
        defer { cli.remove() }
        let started = Date()
        let out = try cli.run(["run", "r"])
        #expect(out.status == 1)
        #expect(out.stderr.contains("timed out after 3s"), "\(out.stderr)")
        #expect(Date().timeIntervalSince(started) < 30)
        let runs = try #require(try cli.json(["runs", "--kind", "stage"]) as? [[String: Any]])
        let jobRun = try #require(runs.first?["parent_run_id"] as? String)
        #expect(try Self.status(head, "mlops-\(jobRun)-slow-1") == "STOPPED")
    }

    @Test func aScriptOnTheClusterLogsToItsStageRunThroughMLflow() throws {
        guard let head = Self.head() else { return }
        let cli = try Self.workspace(head, stages: "      train: { run: python stage.py, env: { LOG_METRIC: \"1\" } }", script: Self.script)
        defer { cli.remove() }
        let out = try cli.run(["run", "r"])
        #expect(out.status == 0, "\(out.stdout)\n\(out.stderr)")
        let runs = try #require(try cli.json(["runs", "--kind", "stage"]) as? [[String: Any]])
        let metrics = runs.first?["metrics"] as? [String: Any]
        #expect(metrics?["auc"] as? Double == 0.75)
        // Its files come through the server's artifact proxy, as they would from another machine.
        let runID = try #require(runs.first?["run_id"] as? String)
        #expect(out.stdout.contains("artifact_uri mlflow-artifacts:/_runs/\(runID)"))
        #expect(try cli.read("experiments/r/\(runID)/artifacts/report.txt") == "made on the cluster\n")
    }

    /// kill -9 of the runner leaves its Ray job running; the next `mlops run` follows it to its
    /// end (its log continuing where it stopped), then resumes the job run, reusing that stage.
    @Test func aRunnerKilledWithKill9IsReattachedByTheNextRun() throws {
        guard let head = Self.head() else { return }
        let cli = try Self.workspace(head, stages: """
                  long: { run: python stage.py, env: { SLEEP: "6" } }
                  after: { run: python stage.py, needs: [long] }
            """, script: Self.script)
        defer { cli.remove() }
        let first = try cli.start(["run", "r"])
        #expect(MLOpsBinary.eventually(60) { (try? String(contentsOfFile: first.outPath, encoding: .utf8))?.contains("tick 1") == true })
        kill(first.pid, SIGKILL)
        _ = first.wait()
        let second = try cli.run(["run", "r"])
        #expect(second.status == 0, "\(second.stdout)\n\(second.stderr)")
        #expect(second.stderr.contains("long reattached"))
        #expect(second.stdout.contains("tick 5"), "the rest of the log, echoed")
        #expect(second.stderr.contains("long reused from stage run"))
        let runs = try #require(try cli.json(["runs", "--kind", "stage"]) as? [[String: Any]])
        let long = try #require(runs.first { $0["stage"] as? String == "long" && ($0["message"] as? String)?.contains("followed to its end") == true })
        #expect(long["status"] as? String == "FINISHED")
        let log = try cli.read("experiments/r/\(long["run_id"] as? String ?? "")/stdout.log")
        for i in 0..<6 { #expect(log.components(separatedBy: "tick \(i)\n").count == 2, "tick \(i) exactly once") }
        let jobs = try #require(try cli.json(["runs"]) as? [[String: Any]])
        #expect(jobs.count == 2)
        #expect(!jobs.contains { $0["status"] as? String == "RUNNING" })
    }

    /// The example in examples/ray-scoring, as its comment says to run it: `shards: 4` on the head,
    /// each copy its own run with its metrics, every customer scored once.
    @Test func theShardedScoringExampleRunsOverRayWorkers() throws {
        guard let head = Self.head() else { return }
        let cli = try MLOpsBinary()
        defer { cli.remove() }
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/ray-scoring").path
        for name in ["jobs.yaml", "job/score_shard.py", "job/model.json"] {
            try FileManager.default.createDirectory(atPath: (cli.root + "/" + name as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: example + "/" + name, toPath: cli.root + "/" + name)
        }
        let out = try cli.run(["run", "weekly-scoring", "--param", "customers=20000", "--param", "top_k=1000"],
                              environment: ["RAY_API_SERVER_ADDRESS": head])
        #expect(out.status == 0, "\(out.stdout)\n\(out.stderr)")
        let runs = try #require(try cli.json(["runs", "--kind", "stage"]) as? [[String: Any]])
        let shards = runs.filter { $0["stage"] as? String == "score" }
        #expect(Set(shards.compactMap { $0["run_name"] as? String ?? $0["name"] as? String }) == ["score[0/4]", "score[1/4]", "score[2/4]", "score[3/4]"])
        let scored = shards.compactMap { ($0["metrics"] as? [String: Any])?["scored"] as? Double }
        #expect(scored.count == 4 && scored.reduce(0, +) == 20000)
        #expect(out.stdout.components(separatedBy: "summary | shard ").count == 5)
        let jobRun = try #require(shards.first?["parent_run_id"] as? String)
        for index in 0..<4 { #expect(try Self.status(head, "mlops-\(jobRun)-score-1-s\(index)") == "SUCCEEDED") }
    }
}

import Foundation
import Testing
@testable import MLOpsCore

@Suite("jobs.yaml: executors")
struct ExecutorSpecTests {
    func diagnostics(_ text: String, file: String = "jobs.yaml") -> [String] {
        do {
            _ = try SpecParser.parse(text: text, file: file)
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    @Test func aStageIsLaidOverItsJobOverTheWorkspaceDefaultField() throws {
        let spec = try SpecParser.parse(text: """
            version: 1
            executors:
              ray: { address: "http://head:8265", num_cpus: 1, env: { A: "1" }, pending_timeout: 5m }
            jobs:
              j:
                executor: ray
                stages:
                  prep: { uses: noop }
                  train: { run: python train.py, executor: { ray: { num_gpus: 1, memory: 4GiB, env: { B: "2" }, resources: { tpu: 2 } } } }
                  report: { run: echo done, executor: local, needs: [train] }
                  score: { run: python score.py, shards: 4 }
            """, file: "jobs.yaml")
        let job = try #require(spec.job(named: "j"))
        #expect(job.stage(named: "prep")?.executor == .local, "built-in stages run in the runner")
        #expect(job.stage(named: "report")?.executor == .local)
        guard case let .ray(train)? = job.stage(named: "train")?.executor, case let .ray(score)? = job.stage(named: "score")?.executor else {
            Issue.record("train and score run on Ray")
            return
        }
        #expect(train.address == "http://head:8265")
        #expect(train.numCPUs == 1 && train.numGPUs == 1 && train.memory == 4 << 30)
        #expect(train.env == ["A": "1", "B": "2"])
        #expect(train.resources == ["tpu": 2])
        #expect(train.pendingTimeout == .seconds(300))
        #expect(score.numGPUs == nil)
        #expect(job.stage(named: "score")?.shards == 4)
        #expect(train.request == "num_cpus 1, num_gpus 1, memory 4GiB, tpu 2")
    }

    @Test func everyBadFieldIsReportedWithItsLocation() {
        let found = diagnostics("""
            version: 1
            executors:
              ray: { address: "head:8265", num_cpus: 0, memory: lots, pending_timeout: soon, auth_token_env: "1X", working_dir: nowhere }
            jobs:
              j:
                stages:
                  a: { run: echo, executor: rey }
                  b: { uses: noop, executor: ray }
                  c: { run: echo, executor: { ray: { num_gpu: 1 } } }
                  d: { run: echo, shards: 0 }
            """, file: "/nonexistent/jobs.yaml")
        #expect(found.contains { $0.hasPrefix("/nonexistent/jobs.yaml:3:19: error: 'head:8265' is not an http(s) URL (at executors.ray.address)") })
        #expect(found.contains { $0.contains("num_cpus must be more than 0, found 0.0 (at executors.ray.num_cpus)") })
        #expect(found.contains { $0.contains("'lots' is not a size (at executors.ray.memory)") })
        #expect(found.contains { $0.contains("(at executors.ray.pending_timeout)") })
        #expect(found.contains { $0.contains("'1X' is not a variable name (at executors.ray.auth_token_env)") })
        #expect(found.contains { $0.contains("no folder 'nowhere' (looked for /nonexistent/nowhere) (at executors.ray.working_dir)") })
        #expect(found.contains { $0.contains("unknown executor 'rey' (at jobs.j.stages.a.executor)\n    hint: did you mean 'ray'?") })
        #expect(found.contains { $0.contains("built-in stages run inside the runner, not on Ray (at jobs.j.stages.b.executor)") })
        #expect(found.contains { $0.contains("unknown key 'num_gpu' (at jobs.j.stages.c.executor.ray.num_gpu)\n    hint: did you mean 'num_gpus'?") })
        #expect(found.contains { $0.contains("0 is below the minimum 1 (at jobs.j.stages.d.shards)") })
    }

    @Test func aLoopbackTrackingURLWithARemoteHeadIsRefused() {
        let found = diagnostics("""
            version: 1
            executors:
              ray: { address: "http://10.0.0.5:8265", tracking_url: "http://localhost:5000" }
            jobs:
              j:
                stages:
                  a: { run: echo, executor: ray }
            """)
        #expect(found.count == 1)
        #expect(found.first?.contains("the tracking URL http://localhost:5000 is a loopback address, which the Ray cluster at http://10.0.0.5:8265 cannot reach") == true)
        #expect(diagnostics("""
            version: 1
            executors:
              ray: { address: "http://127.0.0.1:8265", tracking_url: "http://localhost:5000" }
            jobs:
              j:
                stages:
                  a: { run: echo, executor: ray }
            """).isEmpty, "a head on this machine reaches a loopback address")
    }

    @Test func sizesAndShellQuoting() {
        #expect(ByteCount.parse("512MiB") == 512 << 20)
        #expect(ByteCount.parse("2GB") == 2_000_000_000)
        #expect(ByteCount.parse("1024") == 1024)
        #expect(ByteCount.parse("1.5 GiB") == 1_610_612_736)
        #expect(ByteCount.parse("-1") == nil)
        #expect(ByteCount.parse("12 parsecs") == nil)
        #expect(CommandLineWords.shellQuoted("plain-word_1.py") == "plain-word_1.py")
        #expect(CommandLineWords.shellQuoted("it's a") == "'it'\\''s a'")
        #expect(CommandLineWords.shellQuoted("") == "''")
        for word in ["a b", "$HOME", "x;y", "it's", "*"] {
            #expect(CommandLineWords.split(CommandLineWords.shellQuoted(word)) == [word])
        }
    }
}

import Foundation
import Synchronization
import Testing
@testable import MLOpsCore

/// The Ray executor against a stand-in for Ray's Jobs API: every status, every error, and the
/// crash paths (a runner killed with kill -9, then reattached). The real head is in the end-to-end suite.
@Suite("Ray executor")
struct RayExecutorTests {
    var executor: RayExecutor {
        var executor = RayExecutor()
        executor.polling.fast = .milliseconds(5)
        executor.polling.fastFor = .seconds(60)
        executor.polling.stopWait = .seconds(5)
        executor.polling.unreachableFor = .milliseconds(500)
        executor.polling.submitRetryFor = .seconds(5)
        return executor
    }

    func command(_ ws: TestWorkspace, _ server: FakeRayServer, id: String = "mlops-run-s-1", ray: RaySpec? = nil,
                 timeout: SpecDuration? = nil, echo: (@Sendable (Console.Stream, Substring) -> Void)? = nil) -> StageCommand {
        var spec = ray ?? RaySpec()
        spec.address = spec.address ?? server.address
        return StageCommand(
            executable: "python", arguments: ["python", "train.py", "--name", "it's"], environment: ["PATH": "/usr/bin"],
            variables: ["MLOPS_RUN_ID": "r1", "MLFLOW_RUN_ID": "r1", "MLOPS_TRACKING": ws.path("store.sqlite")],
            workingDirectory: ws.root, stdoutLog: ws.path("stdout.log"), stderrLog: ws.path("stderr.log"),
            timeout: timeout, killGrace: .seconds(1), echo: echo, runID: "r1", placement: .ray(spec), submissionID: id,
            labels: ["mlops_run_id": "r1"])
    }

    /// A job that runs until something happens to it, once the head has it.
    func submitted(_ ws: TestWorkspace, _ server: FakeRayServer) async throws -> Task<StageTermination, Never> {
        server.with { $0.script = ["RUNNING"] }
        let executor = self.executor
        let command = self.command(ws, server)
        let task = Task { await executor.run(command) { _ in } }
        while server.job("mlops-run-s-1") == nil { try await Task.sleep(for: .milliseconds(5)) }
        return task
    }

    func log(_ ws: TestWorkspace) -> String { (try? String(contentsOfFile: ws.path("stdout.log"), encoding: .utf8)) ?? "" }

    @Test func aJobThatSucceedsIsRecordedBeforeItIsSentAndItsLogLandsInTheStageLog() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let server = try FakeRayServer()
        defer { server.close() }
        let seen = Mutex<[String]>([])
        let echoed = Mutex<[String]>([])
        let termination = await executor.run(command(ws, server, echo: { _, line in echoed.withLock { $0.append(String(line)) } })) { handle in
            // The handle is recorded before the submission reaches the head.
            seen.withLock { $0.append("handle, submissions so far: \(server.requests("POST /api/jobs/").count)") }
            #expect(RayJobHandle(handle)?.submissionID == "mlops-run-s-1")
        }
        #expect(termination == .succeeded)
        #expect(seen.withLock { $0.first } == "handle, submissions so far: 0")
        #expect(log(ws) == "line 1\nline 2\n")
        #expect(echoed.withLock { $0 } == ["line 1", "line 2"])
        let job = try #require(server.job("mlops-run-s-1"))
        #expect(job.submission["entrypoint"] as? String == "python train.py --name 'it'\\''s'")
        #expect((job.submission["metadata"] as? [String: String])?["mlops_run_id"] == "r1")
        let env = try #require((job.submission["runtime_env"] as? [String: Any])?["env_vars"] as? [String: String])
        #expect(env["MLFLOW_RUN_ID"] == "r1")
        #expect(env["PATH"] == nil, "this machine's environment is not the cluster's")
        #expect(env["MLOPS_TRACKING"] == nil, "a SQLite file is not reachable from the cluster")
    }

    @Test func aFailedJobGivesItsExitCodeAndRaysErrorType() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let server = try FakeRayServer()
        defer { server.close() }
        server.with { $0.script = ["RUNNING", "FAILED"]; $0.exitCode = 3 }
        let termination = await executor.run(command(ws, server)) { _ in }
        #expect(termination == .failed("Ray job failed (JOB_ENTRYPOINT_COMMAND_ERROR: Job entrypoint command failed with exit code 3)", exitCode: 3))
        #expect(log(ws).contains("line 2"), "the last log fetch at the end")
    }

    @Test func aJobStoppedOnTheClusterByOthersEndsKilledSayingSo() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let server = try FakeRayServer()
        defer { server.close() }
        server.with { $0.script = ["PENDING", "RUNNING", "STOPPED"] }
        let termination = await executor.run(command(ws, server)) { _ in }
        #expect(termination == .killed("stopped on the Ray cluster: Job was intentionally stopped."))
        #expect(server.job("mlops-run-s-1")?.stopRequests == 0)
    }

    @Test func aDeadlineStopsTheJobAndWaitsForStopped() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let server = try FakeRayServer()
        defer { server.close() }
        server.with { $0.script = ["RUNNING"] }
        let termination = await executor.run(command(ws, server, timeout: .seconds(0.3))) { _ in }
        #expect(termination == .timedOut(.seconds(0.3)))
        #expect(server.job("mlops-run-s-1")?.stopRequests == 1)
        #expect(server.job("mlops-run-s-1")?.script == ["STOPPED"])
    }

    @Test func cancellingTheRunStopsTheJob() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let server = try FakeRayServer()
        defer { server.close() }
        let task = try await submitted(ws, server)
        task.cancel()
        #expect(await task.value == .killed("stopped by request"))
        #expect(server.job("mlops-run-s-1")?.stopRequests == 1)
    }

    @Test func stoppingWhileTheHeadRefusesSubmissionsEndsKilledAndStopsTheId() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let server = try FakeRayServer()
        defer { server.close() }
        server.with { $0.forced["POST /api/jobs/"] = Array(repeating: (503, "busy"), count: 1000) }
        let executor = self.executor
        let command = self.command(ws, server)
        let task = Task { await executor.run(command) { _ in } }
        while server.requests("POST /api/jobs/").isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        task.cancel()
        #expect(await task.value == .killed("stopped by request"))
        #expect(server.requests("POST /api/jobs/mlops-run-s-1/stop").count == 1, "an earlier request may have got through")
    }

    @Test func aJobPendingPastItsTimeoutFailsAsUnschedulableNamingWhatItAskedFor() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let server = try FakeRayServer()
        defer { server.close() }
        server.with { $0.script = ["PENDING"] }
        var ray = RaySpec()
        ray.numGPUs = 8
        ray.memory = 64 << 30
        ray.pendingTimeout = .seconds(0.2)
        let termination = await executor.run(command(ws, server, ray: ray)) { _ in }
        #expect(termination.outcome == .failed)
        #expect(termination.message?.contains("unschedulable") == true)
        #expect(termination.message?.contains("num_gpus 8, memory 64GiB") == true)
        #expect(server.job("mlops-run-s-1")?.submission["entrypoint_num_gpus"] as? Double == 8)
    }

    @Test func anAnswerAlreadyExistsIsOurOwnJobAdoptedNotResubmitted() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let server = try FakeRayServer()
        defer { server.close() }
        // The first request got through but its answer was lost (a 503 from a proxy); the retry is told "already exists".
        server.with { $0.forced["POST /api/jobs/"] = [(503, "upstream timed out")] }
        server.with { s in s.jobs["mlops-run-s-1"] = .init(submission: ["entrypoint": "first"], script: ["RUNNING", "SUCCEEDED"]) }
        let termination = await executor.run(command(ws, server)) { _ in }
        #expect(termination == .succeeded)
        #expect(server.requests("POST /api/jobs/").count == 2)
        #expect(server.job("mlops-run-s-1")?.submission["entrypoint"] as? String == "first", "never resubmitted over it")
    }

    @Test func aHeadThatForgetsTheJobLosesTheAttempt() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let server = try FakeRayServer()
        defer { server.close() }
        let task = try await submitted(ws, server)
        server.with { _ = $0.jobs.removeValue(forKey: "mlops-run-s-1") }   // the head restarted
        let termination = await task.value
        #expect(termination.message?.hasPrefix("lost: the Ray head at \(server.address) no longer knows job mlops-run-s-1") == true)
    }

    @Test func aHeadThatStopsAnsweringLosesTheAttemptAfterItsGracePeriod() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let server = try FakeRayServer()
        let task = try await submitted(ws, server)
        server.close()
        let termination = await task.value
        #expect(termination.message?.contains("lost contact with the Ray head") == true)
    }

    @Test func refusalsAndMissingSettingsSayWhatToDo() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let server = try FakeRayServer()
        defer { server.close() }
        server.with { $0.forced["POST /api/jobs/"] = [(400, "Unknown field entrypoint_bogus")] }
        let refused = await executor.run(command(ws, server)) { _ in }
        #expect(refused.message == "Ray did not take the job: the Ray Jobs API answered HTTP 400: Unknown field entrypoint_bogus")

        var spec = RaySpec()
        spec.address = "http://10.1.2.3:8265"
        var remote = command(ws, server, ray: spec)
        remote.variables["MLFLOW_TRACKING_URI"] = "http://127.0.0.1:5000"
        let loopback = await executor.run(remote) { _ in }
        #expect(loopback.message?.contains("is a loopback address, which the Ray cluster at http://10.1.2.3:8265 cannot reach") == true)

        var tokenSpec = RaySpec()
        tokenSpec.authTokenEnv = "MLOPS_TEST_NO_SUCH_TOKEN"
        let noToken = await executor.run(command(ws, server, ray: tokenSpec)) { _ in }
        #expect(noToken.message == "auth_token_env names MLOPS_TEST_NO_SUCH_TOKEN, which is not set in this environment")

        var down = RaySpec()
        down.address = "http://127.0.0.1:1"
        var quick = executor
        quick.polling.submitRetryFor = .milliseconds(300)
        let unreachable = await quick.run(command(ws, server, ray: down)) { _ in }
        #expect(unreachable.message?.hasPrefix("Ray did not take the job: cannot reach the Ray Jobs API at http://127.0.0.1:1") == true)
    }

    @Test func aWorkingDirIsUploadedOnceAsAPackageAndNamedInTheRuntimeEnv() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let server = try FakeRayServer()
        defer { server.close() }
        try FileManager.default.createDirectory(atPath: ws.path("job/sub"), withIntermediateDirectories: true)
        try ws.write("job/train.py", "print('hi')\n")
        try ws.write("job/sub/data.csv", "a,b\n1,2\n")
        var spec = RaySpec()
        spec.workingDir = "job"
        #expect(await executor.run(command(ws, server, ray: spec)) { _ in } == .succeeded)
        #expect(await executor.run(command(ws, server, id: "mlops-run-s-2", ray: spec)) { _ in } == .succeeded)
        let uploads = server.with { $0.uploads }
        #expect(uploads.count == 1)
        let name = try #require(uploads.keys.first?.split(separator: "/").last)
        #expect(name.hasPrefix("_ray_pkg_") && name.hasSuffix(".zip"))
        let runtime = server.job("mlops-run-s-2")?.submission["runtime_env"] as? [String: Any]
        #expect(runtime?["working_dir"] as? String == "gcs://\(name)")
    }

    @Test func theLogIsCappedAndSaysWhereTheRestIs() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let server = try FakeRayServer()
        defer { server.close() }
        server.with { $0.logLines = (1...50).map { "line \($0) " + String(repeating: "x", count: 40) } }
        var executor = self.executor
        executor.logCap = 200
        #expect(await executor.run(command(ws, server)) { _ in } == .succeeded)
        let text = log(ws)
        #expect(text.utf8.count < 400)
        #expect(text.contains("[mlops: log capped at 200 B"))
    }

    @Test func aReattachContinuesTheLogFromTheSavedOffsetWithoutALineTwice() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let server = try FakeRayServer()
        defer { server.close() }
        server.with { s in
            s.logLines = ["one", "two", "three"]
            s.jobs["mlops-run-s-1"] = .init(submission: [:], script: ["RUNNING", "SUCCEEDED"], logs: "one\ntwo\n")
        }
        // The dead runner had written "one" and "two", but saved its offset after "one" only.
        try ws.write("stdout.log", "one\ntwo\n")
        let handle = RayJobHandle(address: server.address, submissionID: "mlops-run-s-1", authTokenEnv: nil, logOffset: 4).attemptHandle
        let saved = Mutex<Int64>(0)
        let termination = await executor.reattach(handle, command(ws, server)) { updated in
            saved.withLock { $0 = RayJobHandle(updated)?.logOffset ?? -1 }
        }
        #expect(termination == .succeeded)
        #expect(log(ws) == "one\ntwo\nthree\n")
        #expect(saved.withLock { $0 } == 14)
        #expect(server.requests("POST /api/jobs/").isEmpty, "a reattach never submits")
    }

    /// A job run of job `j` whose runner (a pid that is not alive) died while its stage `s` ran as a Ray job.
    func rayOrphan(_ store: Store, _ server: FakeRayServer, submissionID: String, logOffset: Int64 = 0) throws -> (job: RunRecord, attempt: RunRecord) {
        let tracker = Tracker(store: store)
        var job = RunRecord(experimentID: try tracker.experimentID(named: "j"), name: "j", status: .running, startTime: store.nowMillis(), kind: .job)
        job.job = "j"
        (job.pid, job.pidStartTime, job.bootID, job.host) = (999_999, 1, ProcessIdentity.currentBootID, ProcessIdentity.currentHost)
        try tracker.create(job)
        var attempt = RunRecord(experimentID: job.experimentID, name: "s", status: .running, startTime: store.nowMillis(), kind: .stage)
        attempt.parentRunID = job.id
        (attempt.job, attempt.stage, attempt.attempt) = ("j", "s", 1)
        (attempt.pid, attempt.pidStartTime, attempt.bootID, attempt.host) = (job.pid, job.pidStartTime, job.bootID, job.host)
        try tracker.create(attempt)
        try tracker.recordAttempt(attempt.id, RayJobHandle(address: server.address, submissionID: submissionID, authTokenEnv: nil, logOffset: logOffset).attemptHandle)
        return (job, attempt)
    }

    /// kill -9 of a runner, then the next `mlops run`: its Ray attempt is followed to its end,
    /// through the store's records alone, and its job run closed.
    @Test func aRunnerKilledMidJobIsReattachedByTheReaper() async throws {
        let ws = try TestWorkspace("version: 1\njobs:\n  j:\n    stages:\n      s: { run: python train.py, executor: ray }\n")
        defer { ws.remove() }
        let server = try FakeRayServer()
        defer { server.close() }
        server.with { $0.script = ["RUNNING", "RUNNING", "RUNNING", "SUCCEEDED"]; $0.logLines = ["a", "b", "c", "d"] }
        let store = try ws.store()
        let tracker = Tracker(store: store)
        server.with { s in s.jobs["mlops-x-s-1"] = .init(submission: [:], script: s.script, logs: "a\n") }
        let (job, attempt) = try rayOrphan(store, server, submissionID: "mlops-x-s-1", logOffset: 2)
        let catalog = ExecutorCatalog([LocalProcessExecutor(), executor])
        let reattach = OrphanReaper.Reattach(workspace: ws.workspace, spec: try ws.spec(), jobs: ["j"])
        let result = try await OrphanReaper(store: store, executors: catalog, reattach: reattach).reap()
        #expect(result.resumable.map { $0.runID } == [job.id])
        let ended = try #require(try tracker.run(attempt.id))
        #expect(ended.outcome == .succeeded)
        #expect(RayJobHandle(try #require(ended.attemptHandle))?.logOffset == 8)
        let logFile = ws.workspace.runDirectory(experiment: "j", runID: attempt.id) + "/stdout.log"
        #expect(try String(contentsOfFile: logFile, encoding: .utf8).hasSuffix("b\nc\nd\n"))
        #expect(try tracker.run(job.id)?.outcome == .orphaned)
        // A head restarted meanwhile: the attempt is lost, recorded as such, nothing stays RUNNING.
        let (job2, second) = try rayOrphan(store, server, submissionID: "mlops-gone-s-1")
        _ = try await OrphanReaper(store: store, executors: catalog).reap()
        #expect(try tracker.run(second.id)?.message?.hasPrefix("lost: the Ray head") == true)
        #expect(try tracker.run(job2.id)?.status == .failed)
    }

    /// The scheduler follows a dead runner's Ray job in the background and closes its run after.
    @Test func theSchedulerReattachesInTheBackground() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let server = try FakeRayServer()
        defer { server.close() }
        try ws.write("jobs.yaml", "version: 1\njobs:\n  j:\n    stages:\n      s: { run: python train.py, executor: { ray: { address: \"\(server.address)\" } } }\n")
        let store = try ws.store()
        server.with { s in s.jobs["mlops-y-s-1"] = .init(submission: [:], script: ["RUNNING", "RUNNING", "SUCCEEDED"]) }
        let (job, attempt) = try rayOrphan(store, server, submissionID: "mlops-y-s-1")
        let daemon = SchedulerDaemon(workspace: ws.workspace, spec: try ws.spec(), store: store, log: DaemonLog { _ in })
        try await daemon.register()
        await daemon.tick(now: store.nowMillis())
        await daemon.waitIdle()
        #expect(try Tracker(store: store).run(attempt.id)?.outcome == .succeeded)
        #expect(try Tracker(store: store).run(job.id)?.outcome == .orphaned)
        #expect(await daemon.runningJobs.isEmpty)
    }

    /// The package is a zip Python's zipfile reads back whole, with no top folder and its modes.
    @Test func aWorkingDirPackageIsAZipWithItsFilesAndModes() throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        try FileManager.default.createDirectory(atPath: ws.path("job/.git"), withIntermediateDirectories: true)
        try ws.write("job/run.sh", "#!/bin/sh\necho hi\n")
        chmod(ws.path("job/run.sh"), 0o755)
        try ws.write("job/.git/HEAD", "ref")
        let package = try RayPackage.make(folder: ws.path("job"))
        #expect(try RayPackage.make(folder: ws.path("job")).name == package.name, "named by its content")
        try Data(package.zip).write(to: URL(fileURLWithPath: ws.path("p.zip")))
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        check.arguments = ["-c", "import zipfile, sys; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; "
            + "print(';'.join(f'{i.filename}:{i.external_attr >> 16 & 0o777:o}:{z.read(i).decode()!r}' for i in z.infolist()))", ws.path("p.zip")]
        let out = Pipe()
        check.standardOutput = out
        try check.run()
        check.waitUntilExit()
        let listing = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(listing == "run.sh:755:'#!/bin/sh\\necho hi\\n'\n")
    }
}

import ArgumentParser
import Dispatch
import Foundation
import MLOpsCore
import MLOpsServer

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a job's stages as a DAG and record every attempt.",
        discussion: "Exit status: 0 the job succeeded, 1 it failed, 2 invalid input, 3 refused (already running), 64 a malformed command line, 130/143 stopped.")

    @Argument(help: "The job to run.")
    var job: String

    @Option(name: .customLong("param"), help: ArgumentHelp("Override a job param.", valueName: "key=value"))
    var params: [String] = []

    @Option(help: ArgumentHelp("Run again a previous run of this job, with its params.", valueName: "run-id"))
    var rerun: String?

    @Flag(help: "With --rerun: reuse the stages that succeeded, run only what failed or was skipped.")
    var onlyFailed = false

    @Option(help: "At most this many stages at once (default: the job's max_parallel, else the number of cores).")
    var maxParallel: Int?

    @Option(help: "What started this run, recorded as tags.mlops.trigger: manual, schedule or monitor.")
    var trigger: RunTrigger = .manual

    @Option(help: ArgumentHelp("MLFLOW_TRACKING_URI for stages on another machine (a Ray cluster): an MLflow API its nodes reach, such as `mlops server` on this host.", valueName: "url"))
    var trackingURL: String?

    @Flag(name: .shortAndLong, help: "Do not echo the stages' output (it is still in their log files).")
    var quiet = false

    @OptionGroup var options: WorkspaceOptions

    func validate() throws {
        if onlyFailed && rerun == nil { throw ValidationError("--only-failed goes with --rerun RUN_ID") }
        if let maxParallel, maxParallel < 1 { throw ValidationError("--max-parallel must be at least 1") }
        if let trackingURL, !RayAddressCheck.isHTTPURL(trackingURL) {
            throw ValidationError("--tracking-url '\(trackingURL)' is not an http(s) URL; write it as http://HOST:PORT")
        }
    }

    func run() async throws {
        let workspace = options.resolved
        let spec = try options.loadSpec()
        StartupTrace.mark("spec loaded")
        // Command stages get MLflow's API on a loopback port, so a script's `mlflow.log_metric`
        // lands in its own stage run; built-in stages need none. It starts on its own store
        // connection while this one opens and records the run; the first command stage waits for it.
        // (Starting it before the spec is read, speculatively, was measured: no gain on 2 cores.)
        let starting = spec.job(named: job).map(Self.hasCommandStage) == true ? Self.startTracking(workspace) : nil
        var overrides: [String: SpecValue] = [:]
        for pair in params {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                printError("--param takes key=value, got '\(pair)'")
                throw ExitCode(CLIError.invalidInputCode)
            }
            overrides[String(pair[..<eq])] = .parsingCommandLine(String(pair[pair.index(after: eq)...]))
        }
        let request = RunRequest(job: job, params: overrides, trigger: trigger, rerunOf: rerun, onlyFailed: onlyFailed,
                                 maxParallel: maxParallel, echo: !quiet)
        let store = try await reportingErrors { try options.openStore() }
        StartupTrace.mark("store open")
        let printer = ProgressPrinter()
        let tracking = starting.map { task in TrackingEndpoint { await task.value?.uri } }
        let runner = JobRunner(workspace: workspace, spec: spec, store: store, tracking: tracking, remoteTrackingURL: trackingURL) { printer.print($0) }

        let stop = StopSignals()
        let task = Task { try await runner.run(request) }
        stop.install { task.cancel() }
        let result: JobRunResult
        do {
            result = try await task.value
        } catch let held as JobLease.Held {
            printError(held.description)
            throw ExitCode(CLIError.refusedCode)
        } catch let error as RunRequestError {
            printError(error.description)
            throw ExitCode(CLIError.invalidInputCode)
        }
        StartupTrace.mark("job done")
        await starting?.value?.stop()
        StartupTrace.mark("tracking endpoint stopped")
        if let signal = stop.received { throw ExitCode(128 + signal) }
        // The run is recorded; announcing it cannot change its outcome. What is not delivered in
        // a few seconds is retried by the next mlops process.
        await Notifier(store: store, spec: spec).deliverPending(budget: .seconds(3))
        StartupTrace.mark("notifications delivered")
        throw ExitCode(result.run.status == .finished ? 0 : CLIError.failureCode)
    }
}

extension RunCommand {
    static func startTracking(_ workspace: Workspace) -> Task<EmbeddedTrackingServer?, Never> {
        Task {
            let server = try? await EmbeddedTrackingServer.start(store: Store(path: workspace.storePath, access: .concurrentReaders),
                                                                 workspace: workspace)
            StartupTrace.mark("tracking endpoint listening")
            return server
        }
    }

    static func hasCommandStage(_ job: JobSpec) -> Bool {
        job.stages.contains { if case .command = $0.action { true } else { false } }
    }
}

/// SIGINT and SIGTERM stop the run cleanly: the stages get TERM (then KILL after their grace),
/// their runs are marked KILLED, nothing is left RUNNING. A second signal KILLs them at once.
final class StopSignals: @unchecked Sendable {
    private let lock = NSLock()
    private var sources: [any DispatchSourceSignal] = []
    private var signal: Int32?
    /// The daemon logs its own stopping line.
    let quiet: Bool

    init(quiet: Bool = false) { self.quiet = quiet }

    var received: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return signal
    }

    func install(_ stop: @escaping @Sendable () -> Void) {
        for sig in [SIGINT, SIGTERM] {
            Foundation.signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                self.lock.lock()
                let first = self.signal == nil
                if first { self.signal = sig }
                self.lock.unlock()
                if first {
                    if !self.quiet { Console.shared.write("\nmlops: stopping (\(sig == SIGINT ? "SIGINT" : "SIGTERM")); stages get TERM, then KILL after their grace; signal again to KILL now\n", to: .stderr) }
                    stop()
                } else {
                    Console.shared.write("mlops: killing every stage now\n", to: .stderr)
                    ChildProcess.killAll()
                }
            }
            source.resume()
            sources.append(source)
        }
    }
}

/// One line per event on stderr, so stdout carries only the stages' own output.
final class ProgressPrinter: Sendable {
    func print(_ event: RunEvent) {
        let c = Console.shared
        func paint(_ text: String, _ color: Console.Color) -> String { c.paint(text, color, for: .stderr) }
        switch event {
        case let .jobStarted(runID, job, stages, maxParallel):
            c.write("\(paint("▶", .cyan)) \(paint(job, .bold)) run \(runID.prefix(8)): \(stages) stage\(stages == 1 ? "" : "s"), up to \(maxParallel) at once\n", to: .stderr)
        case let .leaseTakenOver(holder):
            c.write("  \(paint("!", .yellow)) took over the lease of run \(holder.runID.prefix(8)) (pid \(holder.identity.pid) is gone); it is marked orphaned\n", to: .stderr)
        case let .fenced(runID, after):
            c.write("  \(paint("!", .red)) run \(runID.prefix(8)) could not renew its heartbeat for \(after); its stages were stopped so another host can take it over\n", to: .stderr)
        case let .stageReattached(stage, runID, jobRunID):
            c.write("  \(paint("↻", .cyan)) \(stage) reattached: its runner (run \(jobRunID.prefix(8))) died; following stage run \(runID.prefix(8)) to its end\n", to: .stderr)
        case let .stageStarted(stage, attempt, _):
            c.write("  \(paint("•", .gray)) \(stage) started\(attempt > 1 ? " (attempt \(attempt))" : "")\n", to: .stderr)
        case let .stageFinished(stage, attempt, termination, millis, retryIn):
            let time = Formatting.duration(millis: millis)
            if termination == .succeeded {
                c.write("  \(paint("✓", .green)) \(stage) \(time)\n", to: .stderr)
            } else {
                var line = "  \(paint("✗", .red)) \(stage) \(termination.message ?? termination.outcome.rawValue) after \(time)"
                if attempt > 1 { line += " (attempt \(attempt))" }
                if let retryIn { line += "; retrying in \(retryIn)" }
                c.write(line + "\n", to: .stderr)
            }
        case let .stageSkipped(stage, reason):
            c.write("  \(paint("-", .yellow)) \(stage) skipped: \(reason)\n", to: .stderr)
        case let .stageReused(stage, from):
            c.write("  \(paint("=", .gray)) \(stage) reused from stage run \(from.prefix(8))\n", to: .stderr)
        case let .jobFinished(run):
            let mark = run.status == .finished ? paint("✓", .green) : paint("✗", .red)
            var line = "\(mark) \(run.job ?? "") \(paint(run.status.rawValue, Formatting.statusColor(run.status))) in \(Formatting.duration(millis: run.durationMillis))"
            if let message = run.message { line += ": \(message)" }
            line += "  (mlops runs show \(run.shortID))"
            c.write(line + "\n", to: .stderr)
        }
    }
}

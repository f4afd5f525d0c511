import Foundation
import Synchronization

/// Runs an attempt as a job on a Ray cluster, through its Jobs REST API. The attempt's row records
/// the submission before the request is sent, under an id made of the job run, the stage and the
/// attempt; an answer "already exists" means an earlier request of ours got through, so the job is
/// adopted, never resubmitted. Status is polled (often at first, then less), the log copied into
/// the stage's stdout log as it grows, and a deadline, Ctrl-C or SIGTERM stops the Ray job and
/// waits for STOPPED. A job that stays PENDING past `pending_timeout` fails as unschedulable.
public struct RayExecutor: StageExecutor {
    public static let executorName = "ray"
    public let name = RayExecutor.executorName
    public var polling = RayPolling()
    /// Bytes of a job's log copied into the stage's log at most.
    public var logCap: Int64 = 64 << 20

    public init() {}

    public func run(_ command: StageCommand, started: @Sendable (AttemptHandle) -> Void) async -> StageTermination {
        guard case let .ray(spec) = command.placement else { return .failed("not a Ray stage", exitCode: nil) }
        let environment = ProcessInfo.processInfo.environment
        guard let address = spec.address ?? environment["RAY_API_SERVER_ADDRESS"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            return .failed("no Ray address: set `address:` under `executors: ray:` in jobs.yaml, or RAY_API_SERVER_ADDRESS", exitCode: nil)
        }
        if let name = spec.authTokenEnv, environment[name]?.isEmpty ?? true {
            return .failed("auth_token_env names \(name), which is not set in this environment", exitCode: nil)
        }
        if let tracking = command.variables["MLFLOW_TRACKING_URI"], let problem = RayAddressCheck.trackingProblem(trackingURL: tracking, rayAddress: address) {
            return .failed("\(problem.message); \(problem.hint)", exitCode: nil)
        }
        let handle = RayJobHandle(address: address, submissionID: command.submissionID, authTokenEnv: spec.authTokenEnv)
        let client = handle.client(environment: environment)
        var workingDir: String?
        if let folder = spec.workingDir {
            let full = folder.hasPrefix("/") ? folder : "\(command.workingDirectory)/\(folder)"
            do {
                workingDir = try await RayPackage.upload(folder: full, with: client) { body async throws(RayJobsClient.Failure) in try await withTransientRetries(body) }
            } catch {
                return .failed("cannot upload working_dir \(folder) to the Ray head at \(address): \(error)", exitCode: nil)
            }
        }
        let submission = RaySubmission(
            submissionID: command.submissionID, entrypoint: command.shellCommand, env: Self.jobEnvironment(command, spec: spec),
            workingDir: workingDir, metadata: command.labels, numCPUs: spec.numCPUs, numGPUs: spec.numGPUs, memory: spec.memory,
            resources: spec.resources)
        // Recorded before it is sent: a runner killed between the two leaves a handle to look for.
        started(handle.attemptHandle)
        if let failure = await submit(submission, with: client) {
            guard Task.isCancelled else { return .failed("Ray did not take the job: \(failure)", exitCode: nil) }
            // Stopped while the head was not answering: an earlier request may have got through.
            _ = await Task { try? await client.stop(submission.submissionID) }.value
            return .killed("stopped by request")
        }
        return await follow(handle, command, updated: started)
    }

    /// The job's variables: MLOPS_* and MLFLOW_* from the stage's environment, the stage's `env:`,
    /// and the Ray settings' `env:`. Nothing else of this machine's environment (its PATH, HOME) is
    /// the cluster's business.
    static func jobEnvironment(_ command: StageCommand, spec: RaySpec) -> [String: String] {
        var env = command.variables
        // A SQLite store is a file on this machine: a job elsewhere reports through MLflow's API.
        if let store = env["MLOPS_TRACKING"], !store.contains("://") { env["MLOPS_TRACKING"] = nil }
        env.merge(spec.env) { _, new in new }
        return env
    }

    /// Submits the job, or says why not. A request once sent is not cancelled halfway (the head may
    /// take a job whose answer never comes back): it runs in a task of its own, and the follow loop
    /// that comes next stops the job if the run was stopped meanwhile. Only the retries end early.
    func submit(_ submission: RaySubmission, with client: RayJobsClient) async -> RayJobsClient.Failure? {
        let stopped = CancelFlag()
        return await withTaskCancellationHandler {
            await Task { () -> RayJobsClient.Failure? in
                do {
                    try await withTransientRetries(until: { stopped.isSet }) { () async throws(RayJobsClient.Failure) in
                        do { try await client.submit(submission) } catch {
                            // An earlier request of ours got through: the job is ours, never submitted twice.
                            let failure = error as? RayJobsClient.Failure ?? .malformed("\(error)")
                            if failure == .alreadyExists { return }
                            throw failure
                        }
                    }
                    return nil
                } catch {
                    return error as? RayJobsClient.Failure ?? .malformed("\(error)")
                }
            }.value
        } onCancel: {
            stopped.set()
        }
    }

    /// Calls `body` until it succeeds, fails for good, or has failed transiently three times and for `submitRetryFor`.
    func withTransientRetries(until stopped: @Sendable () -> Bool = { Task.isCancelled },
                              _ body: () async throws(RayJobsClient.Failure) -> Void) async throws(RayJobsClient.Failure) {
        let clock = ContinuousClock()
        let giveUp = clock.now + polling.submitRetryFor
        var wait = Duration.milliseconds(200)
        var tries = 0
        while true {
            tries += 1
            do { return try await body() } catch {
                // At least three tries, however slow each answer was.
                guard error.isTransient, tries < 3 || clock.now + wait < giveUp, !stopped() else { throw error }
                try? await Task.sleep(for: wait)
                wait = min(wait * 2, .seconds(3))
            }
        }
    }

    public func probe(_ handle: AttemptHandle) async -> AttemptProbe {
        guard let job = RayJobHandle(handle) else { return .unknown }
        // `mlops runs` probes before it lists: a head that does not answer soon is "cannot tell".
        var client = job.client()
        client.timeout = .seconds(5)
        do {
            let info = try await client.info(job.submissionID)
            return info.status.isTerminal ? .ended(Self.termination(info, stoppedBecause: nil)) : .alive
        } catch .notFound {
            return .lost(Self.lostMessage(job))
        } catch {
            return .unknown
        }
    }

    public func reattach(_ handle: AttemptHandle, _ command: StageCommand, updated: @Sendable (AttemptHandle) -> Void) async -> StageTermination? {
        guard let job = RayJobHandle(handle) else { return nil }
        return await follow(job, command, updated: updated)
    }

    public func stop(_ handle: AttemptHandle) async {
        guard let job = RayJobHandle(handle) else { return }
        _ = try? await job.client().stop(job.submissionID)
    }

    static func lostMessage(_ job: RayJobHandle) -> String {
        "lost: the Ray head at \(job.address) no longer knows job \(job.submissionID) (was it restarted?)"
    }

    /// A terminal status as the run records it: Ray's error type and message, the driver's exit code.
    static func termination(_ info: RayJobsClient.JobInfo, stoppedBecause reason: StageTermination?) -> StageTermination {
        switch info.status {
        case .succeeded: return .succeeded
        case .stopped: return reason ?? .killed("stopped on the Ray cluster" + (info.message.map { ": \(firstLine($0))" } ?? ""))
        case .failed:
            let what = [info.errorType, info.message.map(firstLine)].compactMap { $0 }.joined(separator: ": ")
            return .failed("Ray job failed" + (what.isEmpty ? "" : " (\(what))"), exitCode: info.driverExitCode)
        case .pending, .running: return .failed("still \(info.status.rawValue)", exitCode: nil)
        }
    }

    /// Ray appends the last 20,000 characters of the log to a failure's message; the log is kept apart.
    static func firstLine(_ message: String) -> String {
        let head = message.components(separatedBy: ", last available logs").first ?? message
        return String(head.split(separator: "\n", omittingEmptySubsequences: true).first ?? "")
    }
}

/// How often a Ray job's status is asked: every `fast` for the first `fastFor` (a short job's end
/// is seen within a few tens of milliseconds), then 25% less often each time, up to `slowest`. The
/// fast rate is shared: with more than `fastJobs` jobs followed at once by this process (a wide
/// `shards:`), each is polled that much less often, so the head is asked at most about
/// `fastJobs / fast` times a second however wide the fan-out.
public struct RayPolling: Sendable {
    public var fast: Duration = .milliseconds(40)
    public var fastFor: Duration = .seconds(10)
    public var fastJobs = 8
    public var slowest: Duration = .seconds(2)
    /// How long the head may stay unreachable before the attempt is given up as lost.
    public var unreachableFor: Duration = .seconds(120)
    /// How long a submission (or a working_dir upload) is retried while the head does not answer.
    public var submitRetryFor: Duration = .seconds(20)
    /// How long to wait for STOPPED after asking Ray to stop (it KILLs 3 s after TERM).
    public var stopWait: Duration = .seconds(30)

    public init() {}

    /// The jobs this process follows now.
    static let followed = Atomic<Int>(0)

    func interval(after elapsed: Duration, previous: Duration) -> Duration {
        guard elapsed < fastFor else { return min(slowest, previous * 1.25) }
        let sharing = max(1, Self.followed.load(ordering: .relaxed) / max(1, fastJobs))
        return min(slowest, fast * sharing)
    }
}

/// Set once, from a cancellation handler, read by a task that cancellation does not reach.
final class CancelFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}

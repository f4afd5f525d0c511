import Foundation

extension RayExecutor {
    /// Follows a submitted job to its end: polls its status, copies its log, and stops it at the
    /// deadline, on cancellation, or when it has been PENDING too long. `updated` gets the handle
    /// again whenever its log offset has moved (at most every 2 s, and at the end).
    func follow(_ start: RayJobHandle, _ command: StageCommand, updated: @Sendable (AttemptHandle) -> Void) async -> StageTermination {
        let spec: RaySpec = if case let .ray(spec) = command.placement { spec } else { RaySpec() }
        let pendingTimeout = spec.pendingTimeout ?? RaySpec.defaultPendingTimeout
        let request = spec.request
        var watch = RayJobWatch(job: start, command: command, polling: polling, logCap: logCap)
        RayPolling.followed.add(1, ordering: .relaxed)
        defer { RayPolling.followed.subtract(1, ordering: .relaxed) }
        while true {
            if let ending = await watch.stopIfDue(self) { return watch.finish(ending.0, lastLog: ending.1, updated: updated) }
            let info: RayJobsClient.JobInfo
            switch await watch.status() {
            case let .answer(answer): info = answer
            case .retry: continue
            case let .end(termination): return watch.finish(termination, lastLog: nil, updated: updated)
            }
            switch info.status {
            case .pending:
                if watch.pendingFor(info) >= pendingTimeout.duration {
                    _ = try? await watch.client.stop(watch.job.submissionID)
                    return watch.finish(.failed("unschedulable: the Ray job stayed PENDING for \(pendingTimeout); it asked for \(request). Ray cannot stop a job that is waiting for resources: see `ray status` for what the cluster has, and `ray job stop \(watch.job.submissionID)`", exitCode: nil), lastLog: nil, updated: updated)
                }
            case .running:
                _ = watch.pendingFor(info)
            case .succeeded, .failed, .stopped:
                return watch.finish(Self.termination(info, stoppedBecause: nil), lastLog: try? await watch.client.logs(watch.job.submissionID), updated: updated)
            }
            await watch.fetchLogsIfDue()
            watch.save(force: false, updated: updated)
            await watch.nap()
        }
    }

    /// Asks Ray to stop the job and waits for a terminal status (Ray KILLs 3 s after TERM), in a
    /// task of its own: the caller may be cancelled, and its requests would be too.
    func stopAndWait(_ client: RayJobsClient, _ id: String) async -> (RayJobsClient.JobInfo?, [UInt8]?) {
        let wait = polling.stopWait
        return await Task {
            _ = try? await client.stop(id)
            let clock = ContinuousClock()
            let giveUp = clock.now + wait
            var info: RayJobsClient.JobInfo?
            while clock.now < giveUp {
                info = try? await client.info(id)
                if info?.status.isTerminal == true { break }
                try? await Task.sleep(for: .milliseconds(200))
            }
            return (info, try? await client.logs(id))
        }.value
    }
}

/// One followed job's state between polls: its log, its deadline, how long it has waited to be
/// scheduled or for its head to answer, and the next poll's interval.
struct RayJobWatch {
    enum Status {
        case answer(RayJobsClient.JobInfo)
        case retry
        case end(StageTermination)
    }

    var job: RayJobHandle
    let client: RayJobsClient
    let command: StageCommand
    let polling: RayPolling
    var logs: RayLogFollower
    let clock = ContinuousClock()
    let began: ContinuousClock.Instant
    let deadline: ContinuousClock.Instant?
    var pendingSince: ContinuousClock.Instant?
    var unreachableSince: ContinuousClock.Instant?
    var interval: Duration
    var nextLogFetch: ContinuousClock.Instant
    var saved: (offset: Int64, at: ContinuousClock.Instant)

    init(job: RayJobHandle, command: StageCommand, polling: RayPolling, logCap: Int64) {
        self.job = job
        client = job.client()
        self.command = command
        self.polling = polling
        logs = RayLogFollower(path: command.stdoutLog, offset: job.logOffset, cap: logCap, echo: command.echo)
        let now = ContinuousClock.now
        began = now
        deadline = command.timeout.map { now + $0.duration }
        interval = polling.fast
        nextLogFetch = now
        saved = (job.logOffset, now)
    }

    /// Cancellation or the deadline: the job is stopped, and this is how the attempt ends.
    func stopIfDue(_ executor: RayExecutor) async -> (StageTermination, [UInt8]?)? {
        if Task.isCancelled {
            let (info, log) = await executor.stopAndWait(client, job.submissionID)
            let reason = StageTermination.killed("stopped by request")
            return (info.map { RayExecutor.termination($0, stoppedBecause: reason) } ?? reason, log)
        }
        if let deadline, let timeout = command.timeout, clock.now >= deadline {
            let (info, log) = await executor.stopAndWait(client, job.submissionID)
            return (info.map { $0.status == .stopped ? .timedOut(timeout) : RayExecutor.termination($0, stoppedBecause: nil) } ?? .timedOut(timeout), log)
        }
        return nil
    }

    /// The job's status; a head that does not answer is asked again until `unreachableFor`.
    mutating func status() async -> Status {
        do {
            let info = try await client.info(job.submissionID)
            unreachableSince = nil
            return .answer(info)
        } catch .notFound {
            return .end(.failed(RayExecutor.lostMessage(job), exitCode: nil))
        } catch where error.isTransient {
            let since = unreachableSince ?? clock.now
            unreachableSince = since
            if clock.now - since >= polling.unreachableFor {
                return .end(.failed("lost contact with the Ray head at \(job.address) for \(since.duration(to: clock.now)): \(error); the job may still run there (`ray job stop \(job.submissionID)`)", exitCode: nil))
            }
            try? await Task.sleep(for: min(polling.slowest, .seconds(1)))
            return .retry
        } catch {
            return .end(.failed("\(error)", exitCode: nil))
        }
    }

    /// How long the job has been PENDING, or zero once it runs.
    mutating func pendingFor(_ info: RayJobsClient.JobInfo) -> Duration {
        guard info.status == .pending else { pendingSince = nil; return .zero }
        let since = pendingSince ?? clock.now
        pendingSince = since
        return clock.now - since
    }

    /// Ray serves the whole log each time: it is fetched at most twice a second, and the bigger
    /// it is, the less often (a second per MiB, at most 30 s).
    mutating func fetchLogsIfDue() async {
        guard clock.now >= nextLogFetch, let log = try? await client.logs(job.submissionID) else { return }
        logs.take(log)
        nextLogFetch = clock.now + max(.milliseconds(500), interval, min(.seconds(30), .seconds(log.count >> 20)))
    }

    mutating func save(force: Bool, updated: @Sendable (AttemptHandle) -> Void) {
        guard logs.offset != saved.offset, force || clock.now - saved.at >= .seconds(2) else { return }
        job.logOffset = logs.offset
        saved = (logs.offset, clock.now)
        updated(job.attemptHandle)
    }

    mutating func finish(_ termination: StageTermination, lastLog: [UInt8]?, updated: @Sendable (AttemptHandle) -> Void) -> StageTermination {
        if let lastLog { logs.take(lastLog) }
        logs.flush()
        save(force: true, updated: updated)
        return termination
    }

    /// Sleeps until the next poll (no later than the deadline); cancellation wakes it.
    mutating func nap() async {
        var nap = interval
        if let deadline { nap = min(nap, max(.zero, clock.now.duration(to: deadline))) }
        try? await Task.sleep(for: nap)
        interval = polling.interval(after: clock.now - began, previous: interval)
    }
}

import Foundation

extension RayExecutor {
    /// Follows a submitted job to its end: polls its status, copies its log, and stops it at the
    /// deadline, on cancellation, or when it has been PENDING too long. `updated` gets the handle
    /// again whenever its log offset has moved (at most every 2 s, and at the end).
    func follow(_ start: RayJobHandle, _ command: StageCommand, pendingTimeout: SpecDuration, request: String,
                updated: @Sendable (AttemptHandle) -> Void) async -> StageTermination {
        var job = start
        let client = job.client()
        let id = job.submissionID
        var logs = RayLogFollower(path: command.stdoutLog, offset: job.logOffset, cap: logCap, echo: command.echo)
        let clock = ContinuousClock()
        let began = clock.now
        let deadline = command.timeout.map { began + $0.duration }
        var pendingSince: ContinuousClock.Instant?
        var unreachableSince: ContinuousClock.Instant?
        var interval = polling.fast
        var nextLogFetch = began
        var saved = (offset: job.logOffset, at: began)

        func save(force: Bool) {
            guard logs.offset != saved.offset, force || clock.now - saved.at >= .seconds(2) else { return }
            job.logOffset = logs.offset
            saved = (logs.offset, clock.now)
            updated(job.attemptHandle)
        }
        func finish(_ termination: StageTermination, lastLog: [UInt8]?) -> StageTermination {
            if let lastLog { logs.take(lastLog) }
            logs.flush()
            save(force: true)
            return termination
        }

        while true {
            if Task.isCancelled {
                let (info, log) = await stopAndWait(client, id)
                return finish(info.map { Self.termination($0, stoppedBecause: .killed("stopped by request")) } ?? .killed("stopped by request"), lastLog: log)
            }
            if let deadline, let timeout = command.timeout, clock.now >= deadline {
                let (info, log) = await stopAndWait(client, id)
                let termination: StageTermination = info.map { $0.status == .stopped ? .timedOut(timeout) : Self.termination($0, stoppedBecause: nil) } ?? .timedOut(timeout)
                return finish(termination, lastLog: log)
            }
            let info: RayJobsClient.JobInfo
            do {
                info = try await client.info(id)
                unreachableSince = nil
            } catch .notFound {
                return finish(.failed(Self.lostMessage(job), exitCode: nil), lastLog: nil)
            } catch where error.isTransient {
                let since = unreachableSince ?? clock.now
                unreachableSince = since
                if clock.now - since >= polling.unreachableFor {
                    return finish(.failed("lost contact with the Ray head at \(job.address) for \(since.duration(to: clock.now)): \(error); the job may still run there (`ray job stop \(id)`)", exitCode: nil), lastLog: nil)
                }
                try? await Task.sleep(for: min(polling.slowest, .seconds(1)))
                continue
            } catch {
                return finish(.failed("\(error)", exitCode: nil), lastLog: nil)
            }
            switch info.status {
            case .pending:
                let since = pendingSince ?? clock.now
                pendingSince = since
                if clock.now - since >= pendingTimeout.duration {
                    _ = try? await client.stop(id)
                    return finish(.failed("unschedulable: the Ray job stayed PENDING for \(pendingTimeout); it asked for \(request). Ray cannot stop a job that is waiting for resources: see `ray status` for what the cluster has, and `ray job stop \(id)`", exitCode: nil), lastLog: nil)
                }
            case .running:
                pendingSince = nil
            case .succeeded, .failed, .stopped:
                return finish(Self.termination(info, stoppedBecause: nil), lastLog: try? await client.logs(id))
            }
            if clock.now >= nextLogFetch, let log = try? await client.logs(id) {
                logs.take(log)
                // Ray serves the whole log each time: the bigger it is, the less often it is fetched.
                nextLogFetch = clock.now + max(interval, min(.seconds(30), .seconds(log.count >> 20)))
            }
            save(force: false)
            var nap = interval
            if let deadline { nap = min(nap, max(.zero, clock.now.duration(to: deadline))) }
            try? await Task.sleep(for: nap)
            interval = polling.interval(after: clock.now - began, previous: interval)
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

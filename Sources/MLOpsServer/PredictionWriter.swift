import Foundation
import Logging
import MLOpsCore
import ServiceLifecycle
import Synchronization

/// Records the server's predictions by group commit, as PostgreSQL commits its WAL: a request
/// hands its rows to one writer thread and is answered once the transaction holding them has
/// committed, so an acknowledged prediction survives a `kill -9`. While one transaction commits,
/// the requests that arrive queue up and go into the next one, so the cost of a commit is shared
/// by all of them and the wait stays one commit long. Ids come from a reserved block, so a
/// request never waits for an id.
final class PredictionWriter: Service, Sendable {
    private struct Queue {
        var entries: [PredictionLog.Entry] = []
        var waiters: [CheckedContinuation<Void, any Error>] = []
        var stopped = false
    }

    let log: PredictionLog
    let logger: Logger
    private let queue = Mutex(Queue())
    private let ids = Mutex<Range<Int64>>(0..<0)
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let blockSize = 50_000

    init(store: Store, logger: Logger) {
        log = PredictionLog(store: store)
        self.logger = logger
        let thread = Thread { [self] in writeUntilStopped() }
        thread.name = "mlops.prediction-writer"
        thread.start()
    }

    /// The next prediction id. Reserving a new block is one small write every `blockSize` requests.
    func nextID() throws -> Int64 {
        try ids.withLock { range in
            if range.isEmpty { range = try log.reserveIDs(blockSize) }
            let id = range.lowerBound
            range = (id + 1)..<range.upperBound
            return id
        }
    }

    /// Returns once `entries` are committed; throws when they could not be (the request fails
    /// rather than claim a prediction that was not recorded).
    func commit(_ entries: [PredictionLog.Entry]) async throws {
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
            let accepted = queue.withLock { queue -> Bool in
                guard !queue.stopped else { return false }
                queue.entries += entries
                queue.waiters.append(waiter)
                return true
            }
            if accepted { wake.signal() } else { waiter.resume(throwing: Stopped()) }
        }
    }

    struct Stopped: Error, CustomStringConvertible {
        var description: String { "the server is stopping; the prediction was not recorded" }
    }

    private func writeUntilStopped() {
        while true {
            wake.wait()
            let (batch, waiters, stopped) = queue.withLock { queue in
                defer { queue.entries.removeAll(keepingCapacity: true); queue.waiters.removeAll(keepingCapacity: true) }
                return (queue.entries, queue.waiters, queue.stopped)
            }
            do {
                if !batch.isEmpty { _ = try log.record(batch) }
                for waiter in waiters { waiter.resume() }
            } catch {
                logger.error("cannot record \(batch.count) predictions: \(error)")
                for waiter in waiters { waiter.resume(throwing: error) }
            }
            if stopped { break }
        }
        finished.signal()
    }

    func run() async throws {
        try? await gracefulShutdown()
        // Requests still in flight were answered or are in the queue: write them, then stop.
        queue.withLock { $0.stopped = true }
        wake.signal()
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                self.finished.wait()
                done.resume()
            }
        }
        logger.info("predictions written; writer stopped")
    }
}

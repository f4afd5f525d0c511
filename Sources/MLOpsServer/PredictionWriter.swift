import Dispatch
import Foundation
import Logging
import MLOpsCore
import ServiceLifecycle
import Synchronization

/// Records the server's predictions without making a request wait for the disk: a request takes
/// an id from a reserved block and appends to a buffer; a writer thread commits the buffer every
/// `interval` in one transaction. On shutdown the buffer is written before the process exits.
final class PredictionWriter: Service, Sendable {
    let log: PredictionLog
    let logger: Logger
    let interval: DispatchTimeInterval
    private let buffer = Mutex<[PredictionLog.Entry]>([])
    private let ids = Mutex<Range<Int64>>(0..<0)
    private let queue = DispatchQueue(label: "mlops.prediction-writer")
    private let blockSize = 50_000

    init(store: Store, logger: Logger, interval: DispatchTimeInterval = .milliseconds(50)) {
        log = PredictionLog(store: store)
        self.logger = logger
        self.interval = interval
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

    func append(_ entry: PredictionLog.Entry) {
        buffer.withLock { $0.append(entry) }
    }

    /// Writes what is buffered now; waits for the write. Feedback calls it so that an outcome can
    /// follow its prediction at once.
    func flush() {
        queue.sync { writeBuffered() }
    }

    private func writeBuffered() {
        let batch = buffer.withLock { entries -> [PredictionLog.Entry] in
            defer { entries.removeAll(keepingCapacity: true) }
            return entries
        }
        guard !batch.isEmpty else { return }
        do {
            try log.record(batch)
        } catch {
            // Put them back for the next tick rather than lose them.
            logger.error("cannot record \(batch.count) predictions: \(error); retrying")
            buffer.withLock { $0.insert(contentsOf: batch, at: 0) }
        }
    }

    func run() async throws {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [weak self] in self?.writeBuffered() }
        timer.resume()
        try? await gracefulShutdown()
        timer.cancel()
        flush()
        logger.info("predictions written; writer stopped")
    }
}

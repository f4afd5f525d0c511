import Foundation
import Synchronization

/// A running job's heartbeat, and its fence. The heartbeat renews the run's lease and its row
/// every `JobLease.heartbeatInterval`; another host takes the run over once the heartbeat is older
/// than `JobLease.staleAfterMillis`. A runner that cannot renew it (its host cut off from the
/// database, the database gone) must not run on beside the one that takes over: after
/// `JobLease.fenceAfter` without a renewal the fence calls `stop`, which stops every stage (TERM,
/// then KILL after the grace), well before the window ends.
///
/// Both run on threads of their own, never on the concurrency pool: store calls block their
/// thread, and a pool busy with them (a loaded server, a dead connection) must neither hold a
/// renewal back, which would fence a healthy run, nor hold the fence back from a dead one. Only a
/// store other hosts share (PostgreSQL) is fenced: on the embedded SQLite file every runner is on
/// this host and judged by its process.
final class RunFence: Sendable {
    static let message = "fenced: the heartbeat could not be renewed, so this runner stopped its stages before another host takes the run over"

    private let renewed = Mutex(ContinuousClock.now)
    private let tripped = Atomic(false)
    private let ended = Atomic(false)

    init(store: Store, job: String, runID: String, stop: @escaping @Sendable () -> Void) {
        start(store: store, job: job, runID: runID, stop: stop)
    }

    private func start(store: Store, job: String, runID: String, stop: @escaping @Sendable () -> Void) {
        let poll = Duration.milliseconds(max(50, min(1_000, JobLease.staleAfterMillis / 60)))
        Self.thread {
            var due = ContinuousClock.now + JobLease.heartbeatInterval
            while !self.ended.load(ordering: .sequentiallyConsistent) {
                Self.sleep(poll)
                guard ContinuousClock.now >= due, !self.ended.load(ordering: .sequentiallyConsistent) else { continue }
                due = ContinuousClock.now + JobLease.heartbeatInterval
                if (try? JobLease.heartbeat(store, job: job, runID: runID)) != nil {
                    self.renewed.withLock { $0 = ContinuousClock.now }
                }
            }
        }
        guard store.location.isPostgreSQL else { return }
        Self.thread {
            while !self.ended.load(ordering: .sequentiallyConsistent) {
                Self.sleep(poll)
                let last = self.renewed.withLock { $0 }
                if ContinuousClock.now - last >= JobLease.fenceAfter, !self.ended.load(ordering: .sequentiallyConsistent) {
                    self.tripped.store(true, ordering: .sequentiallyConsistent)
                    stop()
                    return
                }
            }
        }
    }

    /// Whether the fence stopped the run.
    var fenced: Bool { tripped.load(ordering: .sequentiallyConsistent) }

    /// Ends the heartbeat and the watchdog (the run is over).
    func stop() {
        ended.store(true, ordering: .sequentiallyConsistent)
    }

    private static func thread(_ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.stackSize = 256 * 1024
        thread.start()
    }

    private static func sleep(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        usleep(UInt32(seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
    }
}

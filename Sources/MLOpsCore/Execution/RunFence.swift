import Foundation
import Synchronization

/// A running job's heartbeat, and its fence. The heartbeat renews the run's lease and its row
/// every `JobLease.heartbeatInterval`; another host takes the run over once the heartbeat is older
/// than `JobLease.staleAfterMillis`. A runner that cannot renew it (its host cut off from the
/// database, the database gone) must not run on beside the one that takes over: after
/// `JobLease.fenceAfter` without a renewal the fence calls `stop`, which stops every stage (TERM,
/// then KILL after the grace), well before the window ends. A watchdog apart from the heartbeat
/// decides, so a renewal stuck in a dead connection does not hold the fence up. Only a store other
/// hosts share (PostgreSQL) is fenced: on the embedded SQLite file every runner is on this host,
/// judged by its process, and a write that waits on a long one must not stop a healthy run.
final class RunFence: Sendable {
    static let message = "fenced: the heartbeat could not be renewed, so this runner stopped its stages before another host takes the run over"

    private let renewed = Mutex(ContinuousClock.now)
    private let tripped = Atomic(false)
    private let ended = Atomic(false)
    private let tasks = Mutex<[Task<Void, Never>]>([])

    init(store: Store, job: String, runID: String, stop: @escaping @Sendable () -> Void) {
        start(store: store, job: job, runID: runID, stop: stop)
    }

    private func start(store: Store, job: String, runID: String, stop: @escaping @Sendable () -> Void) {
        let heartbeat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: JobLease.heartbeatInterval)
                if Task.isCancelled { break }
                if (try? JobLease.heartbeat(store, job: job, runID: runID)) != nil {
                    self.renewed.withLock { $0 = ContinuousClock.now }
                }
            }
        }
        tasks.withLock { $0 = [heartbeat] }
        guard store.location.isPostgreSQL else { return }
        // On a thread of its own: renewals and other store calls block their threads while a
        // connection is dead, and the fence must not wait for a free one of the pool's.
        let watchdog = Thread {
            let poll = UInt32(max(50, min(1_000, JobLease.staleAfterMillis / 60)) * 1_000)
            while !self.ended.load(ordering: .sequentiallyConsistent) {
                usleep(poll)
                let last = self.renewed.withLock { $0 }
                if ContinuousClock.now - last >= JobLease.fenceAfter {
                    self.tripped.store(true, ordering: .sequentiallyConsistent)
                    stop()
                    return
                }
            }
        }
        watchdog.stackSize = 128 * 1024
        watchdog.start()
    }

    /// Whether the fence stopped the run.
    var fenced: Bool { tripped.load(ordering: .sequentiallyConsistent) }

    func stop() {
        ended.store(true, ordering: .sequentiallyConsistent)
        tasks.withLock { $0.forEach { $0.cancel() } }
    }
}

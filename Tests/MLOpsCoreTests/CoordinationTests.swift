import Foundation
import Synchronization
import Testing
@testable import MLOpsCore

/// The store's coordination operations, each raced by several processes' worth of connections at
/// once: whatever the backend (SQLite's one writer, PostgreSQL's concurrent transactions), exactly
/// one contender wins. These run on PostgreSQL too when the suite does (MLOPS_TEST_POSTGRES).
@Suite("Coordination under concurrency: leases, the reaper, the outbox, monitor triggers, queued fires, rollouts")
struct CoordinationTests {
    static let contenders = 6

    /// Runs `body` on `contenders` threads, each with a store connection of its own, released at
    /// the same instant; what each returned (nil when it threw).
    func race<T: Sendable>(_ ws: TestWorkspace, _ body: @escaping @Sendable (Store, Int) throws -> T) throws -> [T?] {
        let stores = try (0..<Self.contenders).map { _ in try ws.store() }
        let results = Mutex<[Int: T]>([:])
        let start = Date().addingTimeInterval(0.2)
        let done = DispatchGroup()
        for (index, store) in stores.enumerated() {
            done.enter()
            let thread = Thread {
                while Date() < start {}
                if let value = try? body(store, index) { results.withLock { $0[index] = value } }
                done.leave()
            }
            thread.start()
        }
        done.wait()
        return (0..<Self.contenders).map { index in results.withLock { $0[index] } }
    }

    func count(_ ws: TestWorkspace, _ sql: String) throws -> Int { try ws.count(sql) }

    @Test func aDeadHoldersLeaseIsTakenOverByOneContender() throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let dead = ProcessIdentity(pid: 999_999, startTime: 1, bootID: ProcessIdentity.current().bootID, host: ProcessIdentity.current().host)
        try JobLease.acquire(try ws.store(), job: "j", runID: "dead", identity: dead, now: 1)
        let won = try race(ws) { store, i in try JobLease.acquire(store, job: "j", runID: "r\(i)") != nil }
        #expect(won.compactMap { $0 }.count == 1, "\(won)")
        #expect(try count(ws, "SELECT COUNT(*) FROM audit_log WHERE entity_type = 'lease' AND action = 'take_over'") == 1)
        #expect(try count(ws, "SELECT COUNT(*) FROM leases WHERE job = 'j'") == 1)
    }

    @Test func aFreeLeaseIsTakenByOneContender() throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let won = try race(ws) { store, i in try JobLease.acquire(store, job: "free", runID: "r\(i)") == nil }
        #expect(won.compactMap { $0 }.count == 1, "\(won)")
        #expect(try count(ws, "SELECT COUNT(*) FROM audit_log WHERE entity_type = 'lease' AND action = 'acquire'") == 1)
    }

    @Test func theReaperClosesAnOrphanOnce() throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let tracker = Tracker(store: try ws.store())
        var run = RunRecord(experimentID: try tracker.experimentID(named: "jobs"), name: "j", status: .running, startTime: 1, kind: .job)
        run.job = "j"
        try tracker.create(run)
        let runID = run.id
        let closed = try race(ws) { store, _ in
            try store.write { tx in try OrphanRecords.closeIfRunning(tx, jobRunID: runID, reason: "orphaned", now: 2) != nil }
        }
        #expect(closed.filter { $0 == true }.count == 1, "\(closed)")
        #expect(try count(ws, "SELECT COUNT(*) FROM audit_log WHERE entity_id = '\(run.id)' AND action = 'orphan'") == 1)
    }

    @Test func theOutboxHandsEachNotificationToOneSender() throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        try ws.store().write { tx in
            for i in 0..<60 { try Outbox.enqueue(tx, .runFailed, job: "j", summary: "n\(i)", now: 1) }
        }
        let claimed = try race(ws) { store, _ in
            var mine: [Int64] = []
            while true {
                let batch = try store.write { tx in try Outbox.claimDue(tx, now: 10, lease: 60_000, limit: 7) }
                if batch.isEmpty { return mine }
                mine += batch.map(\.id)
            }
        }
        let all = claimed.compactMap { $0 }.flatMap { $0 }
        #expect(claimed.allSatisfy { $0 != nil })
        #expect(all.count == 60 && Set(all).count == 60, "\(all.count) claims of \(Set(all).count) notifications")
    }

    @Test func aBreachStartsOneRetrain() throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        try ws.store().write { tx in
            try tx.db.execute(sql: "INSERT INTO monitor_state (monitor, model_name, updated_time) VALUES ('hit', 'm', 1)")
        }
        let started = try race(ws) { store, i in
            try store.write { tx in
                try MonitorRecords.recordTrigger(tx, monitor: "hit", started: true, reason: "drop", runID: "r\(i)", now: 1_000_000, cooldown: 3_600_000)
            }
        }
        #expect(started.filter { $0 == true }.count == 1, "\(started)")
        #expect(try count(ws, "SELECT COUNT(*) FROM audit_log WHERE entity_id = 'hit' AND action = 'trigger'") == 1)
    }

    @Test func aQueuedFireStartsOnce() throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        try ws.store().write { tx in
            _ = try ScheduleBook.claim(tx, ScheduleBook.Fire(job: "j", time: 60_000, status: .queued, runID: nil, daemon: "d0", detail: nil), now: 60_000)
        }
        let started = try race(ws) { store, i in
            try store.write { tx in try ScheduleBook.startQueued(tx, job: "j", time: 60_000, runID: "r\(i)", daemon: "d\(i)") }
        }
        #expect(started.filter { $0 == true }.count == 1, "\(started)")
    }

    @Test func aRolloutTransitionIsAppliedOnce() throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let (store, _) = try ws.registerModel(versions: 2, champion: 1)
        let plan = RolloutPlan(DeploySpec(model: "m", strategy: .canary, steps: [.setWeight(20), .setWeight(50)], keepPreviousFor: nil, onInconclusive: .pause))
        let rollout = try RolloutStore(store: store).create(model: "m", candidate: 2, stable: 1, plan: plan, jobRunID: nil, now: 1)
        let moved = try race(ws) { store, _ in try RolloutStore(store: store).apply(.start, to: rollout.id, now: 2).event }
        #expect(moved.compactMap { $0 }.count == 1, "\(moved)")
        #expect(try RolloutStore(store: store).events(rollout.id).filter { $0.event == "start" }.count == 1)
    }
}

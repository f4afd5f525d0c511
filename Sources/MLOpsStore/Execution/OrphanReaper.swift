import Foundation
import GRDB

/// Finds runs left RUNNING by a process that died (killed runner, reboot) and closes them, so that
/// no run stays RUNNING for ever. Cheap when nothing is running: one indexed query.
public enum OrphanReaper {
    /// Closes every RUNNING job run whose runner is gone; returns the ids it closed.
    @discardableResult
    public static func reap(_ store: Store, now: Int64 = Store.nowMillis()) throws -> [String] {
        let running = try store.read { tx in
            let db = tx.db
            return try RunRecord.fetchAll(db, sql: "SELECT * FROM runs WHERE status = 'RUNNING' AND kind = 'job'")
        }
        var closed: [String] = []
        for run in running {
            guard let pid = run.pid else { continue }
            let identity = ProcessIdentity(pid: Int32(pid), startTime: run.pidStartTime, bootID: run.bootID, host: run.host ?? "")
            let alive = identity.isAlive() ?? (now - (run.heartbeatTime ?? run.startTime ?? 0) < JobLease.staleAfterMillis)
            if alive { continue }
            try store.write { tx in
                let db = tx.db
                // Re-read inside the transaction: the runner may have finished meanwhile.
                guard try String.fetchOne(db, sql: "SELECT status FROM runs WHERE run_uuid = ?", arguments: [run.id]) == "RUNNING" else { return }
                try closeOrphans(tx, jobRunID: run.id, reason: "orphaned: its runner (pid \(pid)) is gone", now: now)
                try db.execute(sql: "DELETE FROM leases WHERE run_uuid = ?", arguments: [run.id])
                closed.append(run.id)
            }
        }
        return closed
    }

    /// Marks a job run and its RUNNING stage attempts orphaned (FAILED), stopping any stage process
    /// that outlived its runner.
    public static func closeOrphans(_ tx: StoreTransaction, jobRunID: String, reason: String, now: Int64 = Store.nowMillis()) throws {
        let db = tx.db
        let children = try RunRecord.fetchAll(db, sql: "SELECT * FROM runs WHERE parent_run_id = ? AND status = 'RUNNING'", arguments: [jobRunID])
        for child in children {
            if let pid = child.pid {
                let identity = ProcessIdentity(pid: Int32(pid), startTime: child.pidStartTime, bootID: child.bootID, host: child.host ?? "")
                if identity.isAlive() == true { kill(-Int32(pid), SIGKILL) }
            }
            try Tracker.update(tx, child.id, action: "orphan") {
                $0.status = .failed
                $0.outcome = .orphaned
                $0.endTime = now
                $0.message = reason
            }
        }
        if try String.fetchOne(db, sql: "SELECT status FROM runs WHERE run_uuid = ?", arguments: [jobRunID]) == "RUNNING" {
            try Tracker.update(tx, jobRunID, action: "orphan") {
                $0.status = .failed
                $0.outcome = .orphaned
                $0.endTime = now
                $0.message = reason
            }
        }
    }
}

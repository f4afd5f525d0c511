import Foundation
import MLOpsText

/// The notification outbox: an event is written in the same transaction as the change it
/// announces, so it is neither lost (the change committed) nor invented (the change rolled back),
/// and delivering it can never hold up or fail that change.
public enum Outbox {
    public static func enqueue(_ tx: StoreTransaction, _ event: NotifyEvent, job: String? = nil, model: String? = nil, summary: String,
                               details: [String: Any] = [:], now: Int64? = nil) throws {
        let now = now ?? tx.nowMillis()
        var payload = details
        payload["event"] = event.rawValue
        payload["time"] = now
        payload["summary"] = summary
        payload["job"] = job
        payload["model"] = model
        // The id travels in the payload: a receiver that gets an event twice (its answer was lost,
        // or the sender died before recording it) knows it by the id.
        guard let id = try Int64.fetchOne(tx.db, sql: """
            INSERT INTO notifications (time, event, job, model, summary, payload, next_attempt_time) VALUES (?, ?, ?, ?, ?, '{}', ?) RETURNING id
            """, arguments: [now, event.rawValue, job, model, summary, now]) else { throw StoreError("a notification was not given an id") }
        payload["id"] = id
        try tx.db.execute(sql: "UPDATE notifications SET payload = ? WHERE id = ?", arguments: [JSONWriter.text(payload), id])
    }

    /// One row of the outbox.
    public struct Pending: Sendable, Hashable, RowDecodable, Codable {
        public var id: Int64
        public var time: Int64
        public var event: String
        public var job: String?
        public var model: String?
        public var summary: String
        public var payload: String
        public var state: String
        public var attempts: Int
        public var delivered_to: String
        public var last_error: String?

        public init(row: Row) {
            id = row["id"]
            time = row["time"]
            event = row["event"]
            job = row["job"]
            model = row["model"]
            summary = row["summary"]
            payload = row["payload"]
            state = row["state"]
            attempts = row["attempts"]
            delivered_to = row["delivered_to"]
            last_error = row["last_error"]
        }
    }

    /// What is due for delivery at `now`, oldest first, claimed for `lease` milliseconds: another
    /// process delivering the same outbox (a run and `mlops serve` both do) skips it, and if this
    /// one dies the rows come due again when the lease ends. SQLite has one writer, so the claim
    /// holds as written; on PostgreSQL the rows are locked as they are read and rows another
    /// daemon has locked are skipped (`FOR UPDATE SKIP LOCKED`), so two daemons claim disjoint rows.
    public static func claimDue(_ tx: StoreTransaction, now: Int64, lease: Int64, limit: Int = 100) throws -> [Pending] {
        let rows = try Pending.fetchAll(tx.db, sql: """
            SELECT id, time, event, job, model, summary, payload, state, attempts, delivered_to, last_error
            FROM notifications WHERE state = 'pending' AND next_attempt_time <= ? ORDER BY id LIMIT ?\(tx.dialect == .postgresql ? " FOR UPDATE SKIP LOCKED" : "")
            """, arguments: [now, limit])
        for row in rows {
            try tx.db.execute(sql: "UPDATE notifications SET next_attempt_time = ? WHERE id = ?", arguments: [now + lease, row.id])
        }
        return rows
    }

    /// Records one receiver's delivery at once, so a sender that dies after it does not send it there again.
    public static func markDelivered(_ tx: StoreTransaction, id: Int64, to target: String) throws {
        let lock = tx.dialect == .postgresql ? " FOR UPDATE" : ""
        guard let stored = try String.fetchOne(tx.db, sql: "SELECT delivered_to FROM notifications WHERE id = ?\(lock)", arguments: [id]) else { return }
        var targets = (try? JSONDecoder().decode([String].self, from: Data(stored.utf8))) ?? []
        guard !targets.contains(target) else { return }
        targets.append(target)
        try tx.db.execute(sql: "UPDATE notifications SET delivered_to = ? WHERE id = ?", arguments: [JSONWriter.text(targets), id])
    }

    /// How many notifications wait, and when the next one is due.
    public static func waiting(_ tx: StoreTransaction) throws -> (count: Int, next: Int64?) {
        let row = try Row.fetchOne(tx.db, sql: "SELECT MIN(next_attempt_time) AS next, COUNT(*) AS n FROM notifications WHERE state = 'pending'")
        return (row?["n"] ?? 0, row?["next"])
    }

    /// Where a notification stands after a round of attempts.
    public static func settle(_ tx: StoreTransaction, id: Int64, state: String, attempts: Int, nextAttemptTime: Int64,
                              deliveredTo: String, lastError: String?) throws {
        try tx.db.execute(sql: """
            UPDATE notifications SET state = ?, attempts = ?, next_attempt_time = ?, delivered_to = ?, last_error = ? WHERE id = ?
            """, arguments: [state, attempts, nextAttemptTime, deliveredTo, lastError, id])
    }
}

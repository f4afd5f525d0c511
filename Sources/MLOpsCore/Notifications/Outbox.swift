import Foundation
import GRDB

/// The notification outbox: an event is written in the same transaction as the change it
/// announces, so it is neither lost (the change committed) nor invented (the change rolled back),
/// and delivering it can never hold up or fail that change.
public enum Outbox {
    public static func enqueue(_ db: Database, _ event: NotifyEvent, job: String? = nil, model: String? = nil, summary: String,
                               details: [String: Any] = [:], now: Int64 = Store.nowMillis()) throws {
        var payload = details
        payload["event"] = event.rawValue
        payload["time"] = now
        payload["summary"] = summary
        payload["job"] = job
        payload["model"] = model
        let text = (try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys, .withoutEscapingSlashes]))
            .map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        try db.execute(sql: """
            INSERT INTO notifications (time, event, job, model, summary, payload, next_attempt_time) VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [now, event.rawValue, job, model, summary, text, now])
    }

    /// One row of the outbox.
    public struct Pending: Sendable, Hashable, FetchableRecord, Codable {
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
    }
}

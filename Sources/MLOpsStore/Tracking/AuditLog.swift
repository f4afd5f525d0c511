import Foundation
import GRDB

/// Who changed what, when, and from which state to which: one row per state change, written in the
/// same transaction as the change itself.
public enum AuditLog {
    /// The process making changes, as the audit log names it.
    public static let actor: String = {
        let user = ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.userName
        return "\(user)@\(ProcessInfo.processInfo.hostName) pid \(getpid())"
    }()

    public static func record(_ db: Database, entityType: String, entityID: String, action: String,
                              from: String? = nil, to: String? = nil, detail: String? = nil,
                              time: Int64 = Store.nowMillis()) throws {
        try db.cachedStatement(sql: """
            INSERT INTO audit_log (time, actor, entity_type, entity_id, action, from_state, to_state, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [time, actor, entityType, entityID, action, from, to, detail])
    }

    public struct Entry: Codable, Sendable, FetchableRecord {
        public var time: Int64
        public var actor: String
        public var action: String
        public var from_state: String?
        public var to_state: String?
        public var detail: String?

        public init(time: Int64, actor: String, action: String, from_state: String?, to_state: String?, detail: String?) {
            self.time = time
            self.actor = actor
            self.action = action
            self.from_state = from_state
            self.to_state = to_state
            self.detail = detail
        }
    }

    public static func entries(_ db: Database, entityType: String, entityID: String) throws -> [Entry] {
        try Entry.fetchAll(db, sql: """
            SELECT time, actor, action, from_state, to_state, detail FROM audit_log
            WHERE entity_type = ? AND entity_id = ? ORDER BY id
            """, arguments: [entityType, entityID])
    }

    /// An entity's history, oldest first, read on its own.
    public static func entries(in store: Store, entityType: String, entityID: String) throws -> [Entry] {
        try store.database.read { try entries($0, entityType: entityType, entityID: entityID) }
    }
}

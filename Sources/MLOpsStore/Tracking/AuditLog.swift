import Foundation

/// Who changed what, when, and from which state to which: one row per state change, written in the
/// same transaction as the change itself.
public enum AuditLog {
    /// The process making changes, as the audit log names it.
    public static let actor: String = {
        let user = ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.userName
        return "\(user)@\(ProcessInfo.processInfo.hostName) pid \(getpid())"
    }()

    /// Records a change in the caller's transaction, at `time` or now by the store's clock.
    public static func record(_ tx: StoreTransaction, entityType: String, entityID: String, action: String,
                              from: String? = nil, to: String? = nil, detail: String? = nil, time: Int64? = nil) throws {
        try tx.db.cachedStatement(sql: """
            INSERT INTO audit_log (time, actor, entity_type, entity_id, action, from_state, to_state, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [time ?? tx.nowMillis(), actor, entityType, entityID, action, from, to, detail])
    }

    public struct Entry: Codable, Sendable, RowDecodable {
        public var time: Int64
        public var actor: String
        public var action: String
        public var from_state: String?
        public var to_state: String?
        public var detail: String?

        public init(row: Row) {
            time = row["time"]
            actor = row["actor"]
            action = row["action"]
            from_state = row["from_state"]
            to_state = row["to_state"]
            detail = row["detail"]
        }

        public init(time: Int64, actor: String, action: String, from_state: String?, to_state: String?, detail: String?) {
            self.time = time
            self.actor = actor
            self.action = action
            self.from_state = from_state
            self.to_state = to_state
            self.detail = detail
        }
    }

    public static func entries(_ tx: StoreTransaction, entityType: String, entityID: String) throws -> [Entry] {
        try Entry.fetchAll(tx.db, sql: """
            SELECT time, actor, action, from_state, to_state, detail FROM audit_log
            WHERE entity_type = ? AND entity_id = ? ORDER BY id
            """, arguments: [entityType, entityID])
    }

    /// When `alias` of `model` last moved to `version`: a monitor's deployment baseline starts there.
    public static func lastAliasMove(_ tx: StoreTransaction, model: String, alias: ModelAlias, to version: Int) throws -> Int64? {
        try Int64.fetchOne(tx.db, sql: """
            SELECT time FROM audit_log WHERE entity_type = 'alias' AND entity_id = ? AND action = 'move' AND to_state = ?
            ORDER BY id DESC LIMIT 1
            """, arguments: ["\(model)@\(alias)", String(version)])
    }

    /// An entity's history, oldest first, read on its own.
    public static func entries(in store: Store, entityType: String, entityID: String) throws -> [Entry] {
        try store.read { try entries($0, entityType: entityType, entityID: entityID) }
    }
}

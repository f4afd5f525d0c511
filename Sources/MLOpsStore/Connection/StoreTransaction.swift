/// One transaction on the store, handed to each owner that takes part in a change spanning
/// several tables (a rollout's transition moves aliases, appends its event, its audit row and its
/// outbox row): all of it commits together or none of it does. Only the storage layer reads what
/// is inside; the layers above pass it along.
public struct StoreTransaction {
    package let db: SQLDatabase
    /// The store's clock, for the times a change records.
    public let clock: any TimeSource

    package init(_ db: SQLDatabase, clock: any TimeSource) {
        self.db = db
        self.clock = clock
    }

    public func nowMillis() -> Int64 { clock.nowMillis() }

    public var dialect: SQLDialect { db.dialect }

    /// ` FOR UPDATE` on PostgreSQL, to lock the rows a read-then-write reads; nothing on SQLite,
    /// whose write transactions hold the database's one write lock from their start.
    var lockingRead: String { dialect == .postgresql ? " FOR UPDATE" : "" }
}

extension Store {
    /// Runs `body` in one write transaction: committed when it returns, rolled back when it throws.
    ///
    /// `body` may run more than once: on SQLite when a full disk frees its reserve and tries
    /// again, on PostgreSQL when the transaction lost a serialization race and is retried. It
    /// must do nothing but read and write through the transaction.
    public func write<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        switch backend {
        case let .sqlite(store): return try store.write { try body(StoreTransaction($0, clock: clock)) }
        case let .postgresql(store): return try store.write { try body(StoreTransaction($0, clock: clock)) }
        }
    }

    /// Runs `body` on one consistent snapshot of the store.
    public func read<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        switch backend {
        case let .sqlite(store): return try store.read { try body(StoreTransaction($0, clock: clock)) }
        case let .postgresql(store): return try store.read { try body(StoreTransaction($0, clock: clock)) }
        }
    }
}

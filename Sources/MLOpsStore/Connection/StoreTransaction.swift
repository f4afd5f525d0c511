import GRDB

/// One transaction on the store, handed to each owner that takes part in a change spanning
/// several tables (a rollout's transition moves aliases, appends its event, its audit row and its
/// outbox row): all of it commits together or none of it does. Only the storage layer reads what
/// is inside; the layers above pass it along.
public struct StoreTransaction {
    package let db: Database
    /// The store's clock, for the times a change records.
    public let clock: any TimeSource

    package init(_ db: Database, clock: any TimeSource) {
        self.db = db
        self.clock = clock
    }

    public func nowMillis() -> Int64 { clock.nowMillis() }
}

extension Store {
    /// Runs `body` in one write transaction: committed when it returns, rolled back when it throws.
    public func write<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        try database.write { try body(StoreTransaction($0, clock: clock)) }
    }

    /// Runs `body` on one consistent snapshot of the store.
    public func read<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        try database.read { try body(StoreTransaction($0, clock: clock)) }
    }
}

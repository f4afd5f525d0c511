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
    ///
    /// When the disk is full the reserve is freed and the change tried once more, so that what a
    /// failure needs recorded (a stage's end, a run's FAILED) is recorded; past that the error
    /// says which disk and what to do, and nothing already recorded is touched.
    public func write<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        do {
            return try database.write { try body(StoreTransaction($0, clock: clock)) }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_FULL {
            guard reserve.release() else { throw StoreError.diskFull(path) }
            do {
                return try database.write { try body(StoreTransaction($0, clock: clock)) }
            } catch let error as DatabaseError where error.resultCode == .SQLITE_FULL {
                throw StoreError.diskFull(path)
            }
        }
    }

    /// Runs `body` on one consistent snapshot of the store.
    public func read<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        try database.read { try body(StoreTransaction($0, clock: clock)) }
    }
}

import Foundation

/// The workspace's one source of truth, on one of two backends behind the same owners: an
/// embedded SQLite file (WAL, one writer, readers in other processes never block), or a
/// PostgreSQL database a team shares (a pool of connections; write transactions serializable and
/// retried on a serialization failure). Either way it is brought up to date by the same named
/// migrations when it opens.
public final class Store: Sendable {
    /// How this process reaches the store.
    public enum Access: Sendable {
        /// One connection: the cheapest to open, right for a command that does one thing and exits.
        case single
        /// Several connections, for a long-running server with concurrent requests.
        case concurrentReaders
    }

    public let location: StoreLocation
    /// The file, or the database's URL without its password.
    public var path: String { location.description }
    let backend: StoreBackend
    /// Where "now" comes from for what this store records.
    public let clock: any TimeSource

    public convenience init(path: String, access: Access = .single, clock: any TimeSource = WallClock.process) throws {
        try self.init(location: StoreLocation(path), access: access, clock: clock)
    }

    public init(location: StoreLocation, access: Access = .single, clock: any TimeSource = WallClock.process) throws {
        self.location = location
        self.clock = clock
        switch location {
        case let .sqlite(path):
            backend = .sqlite(try SQLiteStore(path: path, access: access))
        case let .postgresql(url):
            backend = .postgresql(try PostgresStore(url: url, access: access))
        }
    }

    public var dialect: SQLDialect {
        switch backend {
        case .sqlite: return .sqlite
        case .postgresql: return .postgresql
        }
    }

    /// The current time by this store's clock: milliseconds since 1970.
    public func nowMillis() -> Int64 { clock.nowMillis() }
}

/// What a `Store` holds of its backend.
enum StoreBackend: Sendable {
    case sqlite(SQLiteStore)
    case postgresql(PostgresStore)
}

import Foundation

/// The PostgreSQL backend: a pool of libpq connections to one database, migrated under an
/// advisory lock. Write transactions run SERIALIZABLE, so every owner's read-then-write holds as
/// it does on SQLite's single writer; a transaction that loses a serialization race or a deadlock
/// is rolled back and run again. Reads take one REPEATABLE READ snapshot.
final class PostgresStore: Sendable {
    let pool: PostgresPool
    let url: String

    init(url: String, access: Store.Access) throws {
        self.url = url
        do {
            pool = try PostgresPool(conninfo: Self.conninfo(url), access: access)
            try pool.withConnection { try PostgresMigrator.migrate($0) }
        } catch let error as PostgresError {
            throw StoreError.unreachable(StoreLocation.redacted(url), error)
        }
    }

    /// The URL with what mlops needs of every connection: a connect timeout, an application name,
    /// and TCP keepalives with a user timeout, so a call on a connection whose host was cut off
    /// fails within seconds (and the runner's fence can act) instead of waiting for TCP to give up.
    static func conninfo(_ url: String) -> String {
        var extra: [String] = []
        if !url.contains("connect_timeout=") { extra.append("connect_timeout=10") }
        if !url.contains("keepalives") { extra += ["keepalives=1", "keepalives_idle=5", "keepalives_interval=2", "keepalives_count=3"] }
        // A quarter of the heartbeat window, at most 10 s: a renewal on a dead link fails while
        // the fence still has time to act on it.
        if !url.contains("tcp_user_timeout=") { extra.append("tcp_user_timeout=\(min(10_000, max(1_000, JobLease.staleAfterMillis / 4)))") }
        if !url.contains("application_name=") { extra.append("application_name=mlops") }
        guard !extra.isEmpty else { return url }
        return url + (url.contains("?") ? "&" : "?") + extra.joined(separator: "&")
    }

    /// How many times a transaction that lost a serialization race is run again.
    static let retries = 30

    /// SERIALIZABLE, unless `MLOPS_POSTGRES_ISOLATION=read-committed`: the test suite runs the
    /// coordination operations at PostgreSQL's default level too, to show they hold by themselves.
    static let writeIsolation = ProcessInfo.processInfo.environment["MLOPS_POSTGRES_ISOLATION"] == "read-committed"
        ? "READ COMMITTED" : "SERIALIZABLE"

    func write<T>(_ body: (SQLDatabase) throws -> T) throws -> T {
        try transaction("BEGIN ISOLATION LEVEL \(Self.writeIsolation)", body)
    }

    func read<T>(_ body: (SQLDatabase) throws -> T) throws -> T {
        try transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    private func transaction<T>(_ begin: String, _ body: (SQLDatabase) throws -> T) throws -> T {
        var attempt = 0
        while true {
            do {
                return try pool.withConnection { connection in
                    try connection.run(begin)
                    do {
                        let value = try body(SQLDatabase(connection))
                        try connection.run("COMMIT")
                        return value
                    } catch {
                        if connection.isOpen { try? connection.run("ROLLBACK") }
                        throw error
                    }
                }
            } catch let error as PostgresError where error.isRetryable && attempt < Self.retries {
                attempt += 1
                // Jittered exponential backoff, capped at 50 ms, so racing writers spread out.
                let cap = min(50_000, 500 << min(attempt, 7))
                usleep(UInt32.random(in: UInt32(cap / 4)...UInt32(cap)))
            } catch let error as PostgresError where error.isConnectionLost {
                throw StoreError.unreachable(StoreLocation.redacted(url), error)
            }
        }
    }
}

extension StoreError {
    /// The database is down, unreachable, refused the login, or went away mid-transaction.
    static func unreachable(_ location: String, _ error: PostgresError) -> StoreError {
        let said = error.message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: "; ")
        let ended = said.last.map { ".?!".contains($0) } ?? true
        return StoreError("cannot use the PostgreSQL store at \(location): \(said)\(ended ? "" : ".") Check that the server runs and accepts "
                          + "this user, and that MLOPS_TRACKING (or --tracking, or `tracking:` in jobs.yaml) names it; nothing was recorded by this command")
    }
}

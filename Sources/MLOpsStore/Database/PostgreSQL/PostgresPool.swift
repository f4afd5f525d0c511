import Foundation

/// Connections to one database, opened as they are needed up to a ceiling, and kept. The ceiling
/// is one for a command, and for a server the smaller of `MLOPS_POSTGRES_POOL` (default 10) and a
/// quarter of what the server's `max_connections` leaves after its reserved slots, so a team's
/// servers and commands do not exhaust it. A caller past the ceiling waits for a connection.
final class PostgresPool: @unchecked Sendable {
    private let conninfo: String
    private let condition = NSCondition()
    private var idle: [PostgresConnection] = []
    private var open = 0
    private(set) var ceiling: Int

    init(conninfo: String, access: Store.Access) throws {
        self.conninfo = conninfo
        let first = try PostgresConnection(conninfo: conninfo)
        ceiling = 1
        if case .concurrentReaders = access {
            let wanted = ProcessInfo.processInfo.environment["MLOPS_POSTGRES_POOL"].flatMap(Int.init) ?? 10
            let limits = try first.query("""
                SELECT current_setting('max_connections')::int AS max, current_setting('superuser_reserved_connections')::int AS reserved
                """, [])
            let available = (limits.first.map { ($0["max"] as Int) - ($0["reserved"] as Int) } ?? 100)
            ceiling = max(1, min(wanted, available / 4))
        }
        idle = [first]
        open = 1
    }

    /// Runs `body` on a connection of the pool; a connection found closed afterwards is dropped.
    func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try checkout()
        defer { checkin(connection) }
        return try body(connection)
    }

    private func checkout() throws -> PostgresConnection {
        condition.lock()
        let deadline = Date().addingTimeInterval(60)
        while idle.isEmpty && open >= ceiling {
            guard condition.wait(until: deadline) else {
                condition.unlock()
                throw PostgresError(sqlState: "53300", message: "all \(ceiling) connections of this process's pool stayed busy for 60 s")
            }
        }
        if let connection = idle.popLast() {
            condition.unlock()
            // A connection the server closed is replaced in its slot (`connect` frees the slot if
            // the new one cannot be made).
            return connection.isOpen ? connection : try connect()
        }
        open += 1
        condition.unlock()
        return try connect()
    }

    private func connect() throws -> PostgresConnection {
        do {
            return try PostgresConnection(conninfo: conninfo)
        } catch {
            condition.lock()
            open -= 1
            condition.signal()
            condition.unlock()
            throw error
        }
    }

    private func checkin(_ connection: PostgresConnection) {
        condition.lock()
        if connection.isOpen { idle.append(connection) } else { open -= 1 }
        condition.signal()
        condition.unlock()
    }
}

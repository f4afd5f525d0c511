/// Runs the shared migrations on a PostgreSQL database, once however many processes start on it
/// at the same moment: under a session advisory lock, each migration in its own transaction with
/// its row in `mlops_migrations`.
enum PostgresMigrator {
    /// The advisory lock's key: "mlops" in ASCII.
    static let lockKey: Int64 = 0x6D_6C_6F_70_73

    static func migrate(_ connection: PostgresConnection) throws {
        if try isCurrent(connection) { return }
        _ = try connection.query("SELECT pg_advisory_lock(?)", [.integer(lockKey)])
        defer { _ = try? connection.query("SELECT pg_advisory_unlock(?)", [.integer(lockKey)]) }
        try connection.run("CREATE TABLE IF NOT EXISTS mlops_migrations (identifier TEXT COLLATE \"C\" PRIMARY KEY, applied_time BIGINT NOT NULL)")
        let applied = Set(try connection.query("SELECT identifier FROM mlops_migrations", []).map { $0["identifier"] as String })
        for migration in Migration.all where !applied.contains(migration.identifier) {
            try connection.run("BEGIN")
            do {
                for (sql, arguments) in PostgresSQL.render(migration.sql, arguments: migration.arguments()) {
                    _ = try connection.execute(sql, arguments)
                }
                _ = try connection.execute("INSERT INTO mlops_migrations (identifier, applied_time) VALUES (?, ?)",
                                           [.text(migration.identifier), .integer(WallClock.process.nowMillis())])
                try connection.run("COMMIT")
            } catch {
                try? connection.run("ROLLBACK")
                throw error
            }
        }
    }

    /// Whether every migration is applied already: one read, no lock, on every open but the first.
    private static func isCurrent(_ connection: PostgresConnection) throws -> Bool {
        let exists = try connection.query("SELECT to_regclass('mlops_migrations') IS NOT NULL AS present", [])
        guard exists.first?["present"] == true else { return false }
        let count: Int = try connection.query("SELECT COUNT(*) AS n FROM mlops_migrations", []).first?["n"] ?? 0
        return count >= Migration.all.count
    }
}

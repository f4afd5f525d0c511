import Foundation
import GRDB

/// The embedded backend: a SQLite file in WAL mode through GRDB, with a disk reserve beside it.
final class SQLiteStore: Sendable {
    let path: String
    let database: any DatabaseWriter
    /// Room to record a failure when the disk is full.
    let reserve: DiskReserve

    init(path: String, access: Store.Access) throws {
        self.path = path
        reserve = DiskReserve(besides: path)
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        reserve.ensure()
        var config = Configuration()
        config.busyMode = .timeout(30)
        config.journalMode = .wal
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        // Two processes may open a new store at once (a run and a `mlops runs`): a file lock lets
        // one create it (switch it to WAL, migrate) while the other waits, then finds the work
        // done. The check alone is a read, so a current store costs no write transaction.
        let migrator = Self.migrator
        database = try Self.withFileLock("\(path).lock") {
            let database: any DatabaseWriter = switch access {
            case .single: try DatabaseQueue(path: path, configuration: config)
            case .concurrentReaders: try DatabasePool(path: path, configuration: config)
            }
            if try !database.read({ try migrator.hasCompletedMigrations($0) }) {
                try migrator.migrate(database)
            }
            return database
        }
    }

    /// The shared migrations, run by GRDB's migrator (which records them in `grdb_migrations`).
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in Migration.all {
            migrator.registerMigration(migration.identifier) { db in
                try db.execute(sql: migration.sql, arguments: StatementArguments(migration.arguments().map(SQLiteConnection.databaseValue)))
            }
        }
        return migrator
    }

    /// Runs `body` holding an exclusive `flock` on `lockPath`, shared by every process on the machine.
    static func withFileLock<T>(_ lockPath: String, _ body: () throws -> T) throws -> T {
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return try body() }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    /// When the disk is full the reserve is freed and the change tried once more, so that what a
    /// failure needs recorded (a stage's end, a run's FAILED) is recorded; past that the error
    /// says which disk and what to do, and nothing already recorded is touched.
    func write<T>(_ body: (SQLDatabase) throws -> T) throws -> T {
        do {
            return try database.write { try body(SQLDatabase(SQLiteConnection($0))) }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_FULL {
            guard reserve.release() else { throw StoreError.diskFull(path) }
            do {
                return try database.write { try body(SQLDatabase(SQLiteConnection($0))) }
            } catch let error as DatabaseError where error.resultCode == .SQLITE_FULL {
                throw StoreError.diskFull(path)
            }
        }
    }

    func read<T>(_ body: (SQLDatabase) throws -> T) throws -> T {
        try database.read { try body(SQLDatabase(SQLiteConnection($0))) }
    }
}

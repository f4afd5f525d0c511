import Foundation
import GRDB

/// The workspace's one source of truth: a SQLite file in WAL mode, opened through GRDB and brought
/// up to date by its migrations. WAL lets a stage's `mlops log` write while the runner records, and
/// readers in other processes never block the writer.
public final class Store: Sendable {
    /// How this process reaches the file.
    public enum Access: Sendable {
        /// One connection: the cheapest to open, right for a command that does one thing and exits.
        case single
        /// A writer and a pool of readers, for a long-running server with concurrent readers.
        case concurrentReaders
    }

    public let path: String
    package let database: any DatabaseWriter
    /// Where "now" comes from for what this store records.
    public let clock: any TimeSource
    /// Room to record a failure when the disk is full.
    let reserve: DiskReserve

    public init(path: String, access: Access = .single, clock: any TimeSource = WallClock.process) throws {
        self.path = path
        self.clock = clock
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

    /// Runs `body` holding an exclusive `flock` on `lockPath`, shared by every process on the machine.
    package static func withFileLock<T>(_ lockPath: String, _ body: () throws -> T) throws -> T {
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return try body() }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    /// The current time by this store's clock: milliseconds since 1970.
    public func nowMillis() -> Int64 { clock.nowMillis() }
}

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
    public let database: any DatabaseWriter

    public init(path: String, access: Access = .single) throws {
        self.path = path
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        var config = Configuration()
        config.busyMode = .timeout(30)
        config.journalMode = .wal
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        switch access {
        case .single: database = try DatabaseQueue(path: path, configuration: config)
        case .concurrentReaders: database = try DatabasePool(path: path, configuration: config)
        }
        // Skip the migrator's write transaction when the schema is already current: most
        // commands open a store that is.
        let migrator = Self.migrator
        if try !database.read({ try migrator.hasCompletedMigrations($0) }) {
            try migrator.migrate(database)
        }
    }

    /// The current time as MLflow stores it: milliseconds since 1970.
    public static func nowMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}

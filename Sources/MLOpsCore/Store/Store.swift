import Foundation
import GRDB

/// The workspace's one source of truth: a SQLite file in WAL mode, opened through GRDB and brought
/// up to date by its migrations. Readers never block the writer, so a stage can log while the
/// runner records.
public final class Store: Sendable {
    public let path: String
    public let pool: DatabasePool

    public init(path: String) throws {
        self.path = path
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        var config = Configuration()
        config.busyMode = .timeout(30)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        pool = try DatabasePool(path: path, configuration: config)
        try Self.migrator.migrate(pool)
    }

    /// The current time as MLflow stores it: milliseconds since 1970.
    public static func nowMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}

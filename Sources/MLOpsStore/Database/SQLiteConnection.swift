import Foundation
import GRDB
import GRDBSQLite

/// The SQLite backend's side of a transaction: GRDB's connection, its statement cache, and
/// SQLite's own bind calls for statements run many times in a row.
final class SQLiteConnection: SQLConnection {
    let db: GRDB.Database
    var dialect: SQLDialect { .sqlite }

    init(_ db: GRDB.Database) { self.db = db }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        if arguments.isEmpty && !sql.contains("?") {
            try db.execute(sql: sql)
        } else {
            let statement = try db.cachedStatement(sql: sql)
            try statement.execute(arguments: StatementArguments(arguments.map(Self.databaseValue)))
        }
        return db.changesCount
    }

    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [Row] {
        let statement = try db.cachedStatement(sql: sql)
        statement.arguments = StatementArguments(arguments.map(Self.databaseValue))
        let columns = Row.Columns(statement.columnNames)
        var rows: [Row] = []
        let cursor = try GRDB.Row.fetchCursor(statement)
        while let row = try cursor.next() {
            var values: [SQLValue] = []
            values.reserveCapacity(row.count)
            for index in 0..<row.count { values.append(Self.sqlValue(row[index] as DatabaseValue)) }
            rows.append(Row(columns: columns, values: values))
        }
        return rows
    }

    /// Binds each row's values to one prepared statement through SQLite's calls, without building
    /// GRDB's argument values: the path of a metric batch.
    func executeMany(_ sql: String, _ rows: [[SQLValue]]) throws -> Int {
        let statement = try db.cachedStatement(sql: sql)
        let handle = statement.sqliteStatement
        defer { sqlite3_reset(handle) }
        var changed = 0
        for values in rows {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
            for (offset, value) in values.enumerated() {
                let index = Int32(offset + 1)
                switch value {
                case .null: sqlite3_bind_null(handle, index)
                case let .integer(v): sqlite3_bind_int64(handle, index, v)
                case let .real(v): sqlite3_bind_double(handle, index, v)
                case let .text(t): sqlite3_bind_text(handle, index, t, -1, Self.transient)
                case let .blob(b): _ = b.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), Self.transient) }
                }
            }
            let rc = sqlite3_step(handle)
            guard rc == SQLITE_DONE else {
                throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: sql)
            }
            changed += Int(sqlite3_changes(db.sqliteConnection))
        }
        return changed
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    static func databaseValue(_ value: SQLValue) -> DatabaseValue {
        switch value {
        case .null: return .null
        case let .integer(v): return v.databaseValue
        case let .real(v): return v.databaseValue
        case let .text(t): return t.databaseValue
        case let .blob(b): return Data(b).databaseValue
        }
    }

    static func sqlValue(_ value: DatabaseValue) -> SQLValue {
        switch value.storage {
        case .null: return .null
        case let .int64(v): return .integer(v)
        case let .double(v): return .real(v)
        case let .string(s): return .text(s)
        case let .blob(d): return .blob([UInt8](d))
        }
    }
}

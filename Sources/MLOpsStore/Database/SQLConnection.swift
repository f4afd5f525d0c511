/// The dialect a statement is written for. Owners write SQL both backends speak; where they
/// cannot (ids reserved in blocks, case-sensitive patterns), they ask the transaction's dialect.
public enum SQLDialect: String, Sendable {
    case sqlite
    case postgresql
}

/// One open connection to a backend, driven by `SQLDatabase` inside a transaction. Statements use
/// `?` placeholders; a backend that numbers them (`$1`) rewrites them.
package protocol SQLConnection: AnyObject {
    var dialect: SQLDialect { get }
    /// Runs a statement; the number of rows it changed.
    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int
    /// Runs a query; every row it returned.
    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [Row]
    /// Runs one statement once per row of arguments; the rows changed in all.
    func executeMany(_ sql: String, _ rows: [[SQLValue]]) throws -> Int
}

extension SQLConnection {
    func executeMany(_ sql: String, _ rows: [[SQLValue]]) throws -> Int {
        try rows.reduce(0) { try $0 + execute(sql, $1) }
    }
}

/// The database as an owner sees it inside one transaction: statements with typed arguments,
/// rows back, and how many rows the last statement changed.
public final class SQLDatabase {
    let connection: any SQLConnection
    /// Rows changed by the last `execute`.
    public private(set) var changesCount = 0

    package init(_ connection: any SQLConnection) {
        self.connection = connection
    }

    public var dialect: SQLDialect { connection.dialect }

    package func execute(sql: String, arguments: SQLArguments = []) throws {
        changesCount = try connection.execute(sql, arguments.map(SQLValue.init(binding:)))
    }

    package func query(_ sql: String, _ arguments: SQLArguments) throws -> [Row] {
        try connection.query(sql, arguments.map(SQLValue.init(binding:)))
    }

    /// Runs `sql` once for each row of arguments: the path of batches (metrics, predictions).
    package func executeMany(sql: String, rows: [[SQLValue]]) throws {
        changesCount = try connection.executeMany(sql, rows)
    }

    /// A statement to run several times; backends cache what they prepared by its text.
    package func cachedStatement(sql: String) throws -> SQLStatement { SQLStatement(db: self, sql: sql) }
}

/// A statement's text bound to the transaction it runs in.
package struct SQLStatement {
    let db: SQLDatabase
    let sql: String

    package func execute(arguments: SQLArguments = []) throws {
        try db.execute(sql: sql, arguments: arguments)
    }
}

/// One row of a query's result, read by column name (case-insensitive, as SQL names are) or by
/// position. Reading NULL or a value of another kind into a non-optional type is a bug in the
/// storage layer, not in a user's input, and stops with the column's name.
public struct Row: Sendable {
    /// The result's column names, shared by all its rows.
    let columns: Columns
    let values: [SQLValue]

    /// The column names of one result, with their lookup.
    final class Columns: Sendable {
        let names: [String]
        private let index: [String: Int]

        init(_ names: [String]) {
            self.names = names
            var index: [String: Int] = [:]
            for (i, name) in names.enumerated().reversed() { index[name.lowercased()] = i }
            self.index = index
        }

        func position(_ name: String) -> Int? { index[name] ?? index[name.lowercased()] }
    }

    init(columns: Columns, values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    /// The stored value of `column`, `.null` when the result has no such column.
    public func value(_ column: String) -> SQLValue {
        columns.position(column).map { values[$0] } ?? .null
    }

    public subscript<T: SQLValueConvertible>(_ column: String) -> T {
        Self.decode(value(column), column)
    }

    public subscript<T: SQLValueConvertible>(_ column: String) -> T? {
        let stored = value(column)
        return stored == .null ? nil : T(sqlValue: stored)
    }

    public subscript<T: SQLValueConvertible>(_ position: Int) -> T {
        Self.decode(values[position], columns.names[position])
    }

    public subscript<T: SQLValueConvertible>(_ position: Int) -> T? {
        values[position] == .null ? nil : T(sqlValue: values[position])
    }

    private static func decode<T: SQLValueConvertible>(_ stored: SQLValue, _ column: String) -> T {
        guard let value = T(sqlValue: stored) else {
            preconditionFailure("column \(column) holds \(stored), which is not a \(T.self)")
        }
        return value
    }
}

/// A type read from one row of a query, column by column.
public protocol RowDecodable {
    init(row: Row) throws
}

extension RowDecodable {
    package static func fetchAll(_ db: SQLDatabase, sql: String, arguments: SQLArguments = []) throws -> [Self] {
        try db.query(sql, arguments).map { try Self(row: $0) }
    }

    package static func fetchOne(_ db: SQLDatabase, sql: String, arguments: SQLArguments = []) throws -> Self? {
        try db.query(sql, arguments).first.map { try Self(row: $0) }
    }

    package static func fetchAll(_ statement: SQLStatement, arguments: SQLArguments = []) throws -> [Self] {
        try fetchAll(statement.db, sql: statement.sql, arguments: arguments)
    }

    package static func fetchOne(_ statement: SQLStatement, arguments: SQLArguments = []) throws -> Self? {
        try fetchOne(statement.db, sql: statement.sql, arguments: arguments)
    }
}

extension Row: RowDecodable {
    public init(row: Row) { self = row }
}

extension SQLValueConvertible {
    /// The first column of every row.
    package static func fetchAll(_ db: SQLDatabase, sql: String, arguments: SQLArguments = []) throws -> [Self] {
        try db.query(sql, arguments).compactMap { $0.values.first.flatMap(Self.init(sqlValue:)) }
    }

    /// The first column of the first row; nil when there is no row or it holds NULL.
    package static func fetchOne(_ db: SQLDatabase, sql: String, arguments: SQLArguments = []) throws -> Self? {
        try db.query(sql, arguments).first?.values.first.flatMap(Self.init(sqlValue:))
    }

    package static func fetchAll(_ statement: SQLStatement, arguments: SQLArguments = []) throws -> [Self] {
        try fetchAll(statement.db, sql: statement.sql, arguments: arguments)
    }

    package static func fetchOne(_ statement: SQLStatement, arguments: SQLArguments = []) throws -> Self? {
        try fetchOne(statement.db, sql: statement.sql, arguments: arguments)
    }
}

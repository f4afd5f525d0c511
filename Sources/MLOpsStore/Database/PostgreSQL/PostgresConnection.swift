import CLibPQ
import Foundation

/// One libpq connection. Statements are sent with their parameters apart from their text
/// (`PQexecParams`), each parameter typed as the Swift value it came from, so no value is ever
/// spliced into SQL.
final class PostgresConnection: SQLConnection {
    private let handle: OpaquePointer
    var dialect: SQLDialect { .postgresql }
    /// `?` placeholders renumbered as `$1, $2, …`, by statement text.
    private var numbered: [String: String] = [:]

    /// Connects; throws with libpq's message (refused, unknown host, bad password) when it cannot.
    init(conninfo: String) throws {
        var loadError = [CChar](repeating: 0, count: 512)
        guard mlops_pq_load(&loadError, loadError.count) == 0 else {
            throw PostgresError(sqlState: "", message: String(decoding: loadError.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        guard let connection = mlops_pq_connect(conninfo) else {
            throw PostgresError(sqlState: "", message: "libpq could not allocate a connection")
        }
        guard mlops_pq_connection_ok(connection) != 0 else {
            let message = String(cString: mlops_pq_error_message(connection))
            mlops_pq_finish(connection)
            throw PostgresError(sqlState: "", message: message)
        }
        handle = connection
        mlops_pq_silence_notices(handle)
    }

    deinit { mlops_pq_finish(handle) }

    var isOpen: Bool { mlops_pq_connection_ok(handle) != 0 }

    /// A statement without parameters (BEGIN, COMMIT, DDL), several separated by `;` allowed.
    func run(_ sql: String) throws {
        let result = mlops_pq_exec(handle, sql)
        defer { mlops_pq_clear(result) }
        try check(result, sql)
    }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        try withResult(sql, arguments) { Int(mlops_pq_cmd_tuples($0)) }
    }

    /// A batch as few statements: `INSERT … VALUES (?, …)` becomes one INSERT of up to a thousand
    /// rows (`VALUES (…), (…), …`), a round trip for each thousand instead of each row. Other
    /// statements, and upserts that could update one row twice in a statement, run row by row.
    func executeMany(_ sql: String, _ rows: [[SQLValue]]) throws -> Int {
        guard rows.count > 1, let width = rows.first?.count, width > 0, let (head, tuple, tail) = PostgresSQL.valuesClause(sql) else {
            return try rows.reduce(0) { try $0 + execute(sql, $1) }
        }
        let perStatement = max(1, min(1_000, 65_535 / width))
        var changed = 0
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(start + perStatement, rows.count)]
            let text = head + Array(repeating: tuple, count: chunk.count).joined(separator: ", ") + tail
            changed += try execute(text, chunk.flatMap { $0 })
            start += chunk.count
        }
        return changed
    }

    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [Row] {
        try withResult(sql, arguments) { result in
            let columnCount = Int(mlops_pq_nfields(result)), rowCount = Int(mlops_pq_ntuples(result))
            let columns = Row.Columns((0..<columnCount).map { String(cString: mlops_pq_fname(result, Int32($0))) })
            let types = (0..<columnCount).map { mlops_pq_ftype(result, Int32($0)) }
            var rows: [Row] = []
            rows.reserveCapacity(rowCount)
            for r in 0..<Int32(rowCount) {
                var values: [SQLValue] = []
                values.reserveCapacity(columnCount)
                for c in 0..<Int32(columnCount) {
                    if mlops_pq_getisnull(result, r, c) != 0 {
                        values.append(.null)
                    } else {
                        let text = String(cString: mlops_pq_getvalue(result, r, c))
                        values.append(Self.decode(text, type: types[Int(c)]))
                    }
                }
                rows.append(Row(columns: columns, values: values))
            }
            return rows
        }
    }

    private func withResult<T>(_ sql: String, _ arguments: [SQLValue], _ read: (OpaquePointer) throws -> T) throws -> T {
        let text = numberedPlaceholders(sql)
        var types: [UInt32] = []
        var values: [String?] = []
        types.reserveCapacity(arguments.count)
        values.reserveCapacity(arguments.count)
        for argument in arguments {
            let (type, value) = Self.encode(argument)
            types.append(type)
            values.append(value)
        }
        let result = withCStrings(values) { pointers in
            mlops_pq_exec_params(handle, text, Int32(arguments.count), types, pointers, nil, nil)
        }
        defer { mlops_pq_clear(result) }
        try check(result, sql)
        return try read(result!)
    }

    private func check(_ result: OpaquePointer?, _ sql: String) throws {
        guard mlops_pq_result_ok(result) == 0 else { return }
        let state = String(cString: mlops_pq_sqlstate(result))
        let message = result == nil || !isOpen ? String(cString: mlops_pq_error_message(handle)) : String(cString: mlops_pq_result_error(result))
        throw PostgresError(sqlState: state, message: message, sql: sql)
    }

    /// `?` outside quotes and comments becomes `$n`.
    private func numberedPlaceholders(_ sql: String) -> String {
        if let done = numbered[sql] { return done }
        let done = PostgresSQL.numberPlaceholders(sql)
        if numbered.count > 512 { numbered.removeAll() }
        numbered[sql] = done
        return done
    }

    // Type OIDs (pg_type): bool, int8, int2, int4, oid, float4, float8, numeric, bytea, text.
    private static let bool: UInt32 = 16, int8: UInt32 = 20, int2: UInt32 = 21, int4: UInt32 = 23, oid: UInt32 = 26
    private static let float4: UInt32 = 700, float8: UInt32 = 701, numeric: UInt32 = 1700, bytea: UInt32 = 17, text: UInt32 = 25

    /// A parameter's type and text. NULL goes untyped, so PostgreSQL takes the column's type.
    static func encode(_ value: SQLValue) -> (UInt32, String?) {
        switch value {
        case .null: return (0, nil)
        case let .integer(v): return (int8, String(v))
        case let .real(v):
            if v.isNaN { return (float8, "NaN") }
            if v.isInfinite { return (float8, v < 0 ? "-Infinity" : "Infinity") }
            return (float8, "\(v)")
        case let .text(t): return (text, t)
        case let .blob(b): return (bytea, "\\x" + b.map { String(format: "%02x", $0) }.joined())
        }
    }

    static func decode(_ text: String, type: UInt32) -> SQLValue {
        switch type {
        case bool: return .integer(text == "t" ? 1 : 0)
        case int8, int2, int4, oid: return Int64(text).map(SQLValue.integer) ?? .text(text)
        case float4, float8:
            switch text {
            case "NaN": return .real(.nan)
            case "Infinity": return .real(.infinity)
            case "-Infinity": return .real(-.infinity)
            default: return Double(text).map(SQLValue.real) ?? .text(text)
            }
        case numeric: return Int64(text).map(SQLValue.integer) ?? Double(text).map(SQLValue.real) ?? .text(text)
        case bytea: return .blob(hexBytes(text))
        default: return .text(text)
        }
    }

    private static func hexBytes(_ text: String) -> [UInt8] {
        let digits = Array(text.utf8.dropFirst(2))
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var i = 0
        func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : (c | 0x20) - 87 }
        while i + 1 < digits.count {
            bytes.append(nibble(digits[i]) << 4 | nibble(digits[i + 1]))
            i += 2
        }
        return bytes
    }
}

/// Calls `body` with C strings for `values` (NULL for nil) that live until it returns.
private func withCStrings<T>(_ values: [String?], _ body: ([UnsafePointer<CChar>?]) -> T) -> T {
    let storage: [UnsafeMutablePointer<CChar>?] = values.map { $0.flatMap { strdup($0) } }
    defer { storage.forEach { free($0) } }
    return body(storage.map { $0.map { UnsafePointer($0) } })
}

/// What PostgreSQL or libpq said went wrong, with the SQLSTATE that decides what to do about it.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// Five characters (`40001`), or empty when the connection itself failed.
    public var sqlState: String
    public var message: String
    public var sql: String?

    public var description: String {
        let text = message.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let sql else { return text }
        return "\(text) (SQLSTATE \(sqlState)) in: \(sql.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " "))"
    }

    /// A serialization failure or a deadlock: the transaction was rolled back and is tried again.
    var isRetryable: Bool { sqlState == "40001" || sqlState == "40P01" }

    /// The connection is gone (class 08, admin shutdown, or no SQLSTATE at all).
    var isConnectionLost: Bool {
        sqlState.isEmpty || sqlState.hasPrefix("08") || sqlState == "57P01" || sqlState == "57P02" || sqlState == "57P03"
    }
}

import Foundation

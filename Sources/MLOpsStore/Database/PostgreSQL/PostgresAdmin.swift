import Foundation

/// What is done to a PostgreSQL server rather than inside one database: making a database for a
/// workspace (the test suites give every workspace its own, so they run against PostgreSQL as
/// they do against a fresh SQLite file each).
package enum PostgresAdmin {
    /// Creates database `name` on the server `serverURL` reaches; the new database's URL.
    /// `icuLocale` makes it a database whose default collation is that language's (ICU), as a
    /// team's database may be.
    package static func createDatabase(server serverURL: String, name: String, icuLocale: String? = nil) throws -> String {
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
            throw StoreError("'\(name)' is not a database name mlops makes: letters, digits and _ only")
        }
        let connection = try PostgresConnection(conninfo: PostgresStore.conninfo(serverURL))
        var sql = "CREATE DATABASE \(name)"
        if let icuLocale { sql += " TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '\(icuLocale.replacingOccurrences(of: "'", with: "''"))' LOCALE 'C.UTF-8'" }
        try connection.run(sql)
        return replacingDatabase(in: serverURL, with: name)
    }

    /// `postgresql://u@h:p/old?x=y` with `new` in place of `old`.
    package static func replacingDatabase(in url: String, with name: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let afterScheme = url[scheme.upperBound...]
        let query = afterScheme.firstIndex(of: "?")
        let authority = afterScheme[..<(query ?? afterScheme.endIndex)]
        let host = authority.firstIndex(of: "/").map { authority[..<$0] } ?? authority
        return String(url[..<scheme.upperBound]) + host + "/" + name + (query.map { String(afterScheme[$0...]) } ?? "")
    }
}

extension PostgresAdmin {
    /// For the test suites: a new database on the server `MLOPS_TEST_POSTGRES` names, or nil when
    /// it names none (the suites then run on SQLite).
    package static func testDatabase() throws -> String? {
        guard let server = ProcessInfo.processInfo.environment["MLOPS_TEST_POSTGRES"], !server.isEmpty else { return nil }
        let name = "mlops_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        return try createDatabase(server: server, name: name)
    }
}

extension PostgresAdmin {
    /// Runs statements on the server's own database (`ALTER DATABASE`, `pg_terminate_backend`):
    /// what an operator does to a database from outside it.
    package static func run(server serverURL: String, _ sql: String) throws {
        try PostgresConnection(conninfo: PostgresStore.conninfo(serverURL)).run(sql)
    }
}

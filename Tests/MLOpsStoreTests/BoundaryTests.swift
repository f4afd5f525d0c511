import Foundation
import Testing

/// The storage layer is the one way into the database: no file outside it imports a database
/// library or holds a SQL statement. A stray one fails here, naming the file.
@Suite("The storage layer's boundary")
struct BoundaryTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources").path

    static func swiftFiles() -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: sources)
        var files: [String] = []
        while let path = enumerator?.nextObject() as? String {
            if path.hasSuffix(".swift") { files.append(path) }
        }
        return files.sorted()
    }

    @Test func onlyTheStorageLayerImportsADatabaseLibrary() throws {
        let files = Self.swiftFiles()
        #expect(files.count > 100, "found \(files.count) files under \(Self.sources)")
        let importing = try files.filter { path in
            let text = try String(contentsOfFile: "\(Self.sources)/\(path)", encoding: .utf8)
            return text.split(separator: "\n").contains { line in
                let words = line.split(separator: " ")
                guard let i = words.firstIndex(of: "import"), i + 1 < words.count else { return false }
                return ["GRDB", "GRDBSQLite", "PostgresNIO", "CLibPQ", "SQLite3"].contains(String(words[i + 1]))
            }
        }
        #expect(!importing.isEmpty, "the storage layer itself imports GRDB; the scan found nothing")
        #expect(importing.allSatisfy { $0.hasPrefix("MLOpsStore/") }, "outside the storage layer: \(importing.filter { !$0.hasPrefix("MLOpsStore/") })")
        // Inside it, only the backends do: the owners write SQL against `SQLDatabase`, whichever backend runs it.
        #expect(importing.allSatisfy { $0.hasPrefix("MLOpsStore/Database/") }, "an owner imports a backend: \(importing.filter { !$0.hasPrefix("MLOpsStore/Database/") })")
    }

    @Test func noSQLStatementOutsideTheStorageLayer() throws {
        let statement = try Regex(#"((^|[^A-Za-z])sql:|"\s*(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|CREATE TABLE)\b)"#)
        let offending = try Self.swiftFiles().filter { !$0.hasPrefix("MLOpsStore/") }.filter { path in
            try String(contentsOfFile: "\(Self.sources)/\(path)", encoding: .utf8).contains(statement)
        }
        #expect(offending.isEmpty, "SQL outside the storage layer: \(offending)")
    }
}

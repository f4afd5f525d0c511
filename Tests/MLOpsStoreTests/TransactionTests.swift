import Foundation
import Testing
@testable import MLOpsStore

/// One transaction across owners: all of it commits, or none of it does, audit rows included.
@Suite("Store transactions across owners")
struct TransactionTests {
    struct Abandon: Error {}

    func store() throws -> (Store, String) {
        let folder = NSTemporaryDirectory() + "mlops-store-" + UUID().uuidString.prefix(8)
        return (try Store(path: try PostgresAdmin.testDatabase() ?? "\(folder)/mlops.sqlite"), folder)
    }

    @Test func aChangeThatThrowsLeavesNoTraceInAnyOwner() throws {
        let (store, folder) = try store()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let version = try store.write { tx in
            let v = try RegistryRecords.reserveVersion(tx, name: "m", runID: nil, source: "/x", storageRoot: folder, tags: [:], now: 1)
            try RegistryRecords.markReady(tx, name: "m", version: v, files: [], digest: "d", now: 2)
            return v
        }
        let auditBefore = try AuditLog.entries(in: store, entityType: "alias", entityID: "m@champion")
        #expect(throws: Abandon.self) {
            try store.write { tx in
                try RegistryRecords.moveAlias(tx, "m", .champion, to: version, reason: "then abandoned", now: 3)
                try Outbox.enqueue(tx, .rolloutPromoted, model: "m", summary: "never sent", now: 3)
                throw Abandon()
            }
        }
        #expect(try store.read { try RegistryRecords.aliases($0, "m") } == [:])
        #expect(try AuditLog.entries(in: store, entityType: "alias", entityID: "m@champion").count == auditBefore.count)
        #expect(try store.read { try Outbox.waiting($0).count } == 0)
        // The same change, not abandoned, lands whole.
        try store.write { tx in
            try RegistryRecords.moveAlias(tx, "m", .champion, to: version, reason: "kept", now: 4)
            try Outbox.enqueue(tx, .rolloutPromoted, model: "m", summary: "sent", now: 4)
        }
        #expect(try store.read { try RegistryRecords.aliases($0, "m") } == ["champion": version])
        #expect(try AuditLog.entries(in: store, entityType: "alias", entityID: "m@champion").map(\.detail) == ["kept"])
        #expect(try store.read { try Outbox.waiting($0).count } == 1)
    }

    @Test func aServedVersionIsNotDeletedWhateverTheCaller() throws {
        let (store, folder) = try store()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let found = try store.write { tx -> ModelVersion in
            let v = try RegistryRecords.reserveVersion(tx, name: "m", runID: nil, source: "/x", storageRoot: folder, tags: [:], now: 1)
            try RegistryRecords.markReady(tx, name: "m", version: v, files: [], digest: "d", now: 2)
            try RegistryRecords.moveAlias(tx, "m", .champion, to: v, reason: "first", now: 3)
            return try #require(try RegistryRecords.version(tx, "m", v))
        }
        #expect(throws: RegistryError.self) { try store.write { try RegistryRecords.deleteVersion($0, found, reason: "t") } }
        #expect(throws: RegistryError.self) { try store.write { try RegistryRecords.deleteModel($0, "m", reason: "t") } }
        #expect(try store.read { try RegistryRecords.version($0, "m", found.version) } != nil)
    }
}

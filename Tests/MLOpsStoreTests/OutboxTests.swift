import Foundation
import Testing
@testable import MLOpsStore

/// Two processes deliver one outbox (a run and `mlops serve` both do): a notification goes to
/// each receiver once, and a receiver recorded as delivered is not sent it again.
@Suite("The notification outbox")
struct OutboxTests {
    @Test func aClaimedNotificationIsNotClaimedAgainUntilItsLeaseEnds() throws {
        let folder = NSTemporaryDirectory() + "mlops-store-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try Store(path: try PostgresAdmin.testDatabase() ?? "\(folder)/mlops.sqlite")
        try store.write { tx in try Outbox.enqueue(tx, .runFailed, job: "j", summary: "failed", now: 100) }
        let first = try store.write { try Outbox.claimDue($0, now: 100, lease: 1000) }
        #expect(first.count == 1)
        // The payload carries the id, for receivers to drop a repeat.
        #expect(first.first?.payload.contains("\"id\":\(first[0].id)") == true, "\(first.first?.payload ?? "")")
        #expect(try store.write { try Outbox.claimDue($0, now: 500, lease: 1000) }.isEmpty)
        try store.write { tx in
            try Outbox.markDelivered(tx, id: first[0].id, to: "hook")
            try Outbox.markDelivered(tx, id: first[0].id, to: "hook")
        }
        // The claimer died: after the lease it is due again, with what was delivered remembered once.
        let again = try store.write { try Outbox.claimDue($0, now: 1100, lease: 1000) }
        #expect(again.map(\.delivered_to) == ["[\"hook\"]"])
    }
}

import Foundation
import Testing
@testable import MLOpsStore

/// A long metric summarised for a chart: at most the buckets asked for, every point counted once,
/// and a one-point spike kept as its bucket's high, on either backend.
@Suite("Metric history in buckets")
struct MetricBucketsTests {
    @Test func aSpikeSurvivesAndEveryPointIsCountedOnce() throws {
        let folder = NSTemporaryDirectory() + "mlops-buckets-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try Store(path: try PostgresAdmin.testDatabase() ?? "\(folder)/mlops.sqlite")
        let tracker = Tracker(store: store)
        let run = RunRecord(experimentID: try tracker.experimentID(named: "e"), name: "r", status: .running, startTime: 1, kind: .run)
        try tracker.create(run)
        var points: [MetricPoint] = []
        for i in 0..<10_000 {
            let value: Double = i == 7_777 ? 50 : 1 / Double(1 + i)
            points.append(MetricPoint(key: "loss", value: value, timestamp: Int64(i), step: Int64(i)))
        }
        try tracker.logMetrics(run.id, points + [MetricPoint(key: "loss", value: .nan, timestamp: 1, step: 3)])
        let buckets = try store.read { try Tracker.metricBuckets($0, run.id, key: "loss", buckets: 100) }
        #expect(buckets.count == 100)
        #expect(buckets.reduce(0) { $0 + $1.count } == 10_000, "NaN left out")
        #expect(buckets.map(\.high).max() == 50)
        #expect(buckets.first?.firstStep == 0 && buckets.last?.lastStep == 9_999)
        #expect(try store.read { try Tracker.metricBuckets($0, run.id, key: "none", buckets: 100) }.isEmpty)
    }
}

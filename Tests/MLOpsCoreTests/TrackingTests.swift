import Foundation
import Testing
@testable import MLOpsCore

@Suite("The tracking store: MLflow's data model in a real SQLite file")
struct TrackingTests {
    func makeRun(_ tracker: Tracker, job: String = "j", start: Int64 = WallClock.process.nowMillis(), params: [String: String] = [:],
                 tags: [String: String] = [:], metrics: [String: Double] = [:]) throws -> RunRecord {
        var run = RunRecord(experimentID: try tracker.experimentID(named: job), name: job, status: .finished, startTime: start, kind: .job)
        run.job = job
        try tracker.create(run, params: params, tags: tags)
        try tracker.logMetrics(run.id, metrics.map { MetricPoint(key: $0.key, value: $0.value) })
        return run
    }

    @Test func runRoundTripWithParamsTagsMetrics() throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let tracker = Tracker(store: try ws.store())
        let run = try makeRun(tracker, params: ["l2": "1.0"], tags: ["team": "growth"], metrics: ["auc": 0.8])
        #expect(run.id.count == 32 && run.id.allSatisfy(\.isHexDigit))
        #expect(try tracker.run(run.id) == run)
        #expect(try tracker.params(of: run.id) == ["l2": "1.0"])
        #expect(try tracker.tags(of: run.id) == ["team": "growth"])
        #expect(try tracker.latestMetrics(of: run.id).map(\.value) == [0.8])
        // The store survives reopening: it is a file, not memory.
        let reopened = Tracker(store: try ws.store())
        #expect(try reopened.resolve(String(run.id.prefix(6))).id == run.id)
    }

    @Test func manyOpenersOfANewStoreAllSucceed() async throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let path = ws.workspace.storePath
        let failures = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    await withCheckedContinuation { continuation in
                        Thread {
                            do { _ = try Store(path: path); continuation.resume(returning: nil) }
                            catch { continuation.resume(returning: "\(error)") }
                        }.start()
                    }
                }
            }
            var failures: [String] = []
            for await failure in group { if let failure { failures.append(failure) } }
            return failures
        }
        #expect(failures == [])
    }

    @Test func paramsAreWriteOnce() throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let tracker = Tracker(store: try ws.store())
        let run = try makeRun(tracker, params: ["l2": "1.0"])
        try tracker.logParams(run.id, ["l2": "1.0"])
        #expect(throws: Tracker.TrackingError.self) { try tracker.logParams(run.id, ["l2": "2.0"]) }
        #expect(try tracker.params(of: run.id) == ["l2": "1.0"])
    }

    @Test func latestMetricIsHighestStepThenNewest() throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let tracker = Tracker(store: try ws.store())
        let run = try makeRun(tracker)
        try tracker.logMetrics(run.id, [MetricPoint(key: "loss", value: 0.5, timestamp: 10, step: 2),
                                        MetricPoint(key: "loss", value: 0.9, timestamp: 20, step: 1)])
        try tracker.logMetrics(run.id, [MetricPoint(key: "loss", value: 0.7, timestamp: 5, step: 1)])
        #expect(try tracker.latestMetrics(of: run.id).first?.value == 0.5)
        #expect(try tracker.metricHistory(of: run.id, key: "loss").map(\.value) == [0.7, 0.9, 0.5])
        try tracker.logMetrics(run.id, [MetricPoint(key: "loss", value: .nan, timestamp: 30, step: 3)])
        #expect(try tracker.latestMetrics(of: run.id).first?.value.isNaN == true)
    }

    @Test func batchOfManyPointsLandsInOneTransaction() throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let tracker = Tracker(store: try ws.store())
        let run = try makeRun(tracker)
        let points = (0..<20_000).map { MetricPoint(key: "k\($0 % 4)", value: Double($0), timestamp: 1, step: Int64($0)) }
        try tracker.logMetrics(run.id, points)
        let count = try tracker.store.read { try Int.fetchOne($0.db, sql: "SELECT COUNT(*) FROM metrics WHERE run_uuid = ?", arguments: [run.id]) }
        #expect(count == 20_000)
        #expect(try tracker.latestMetrics(of: run.id).map(\.value) == [19_996, 19_997, 19_998, 19_999])
        #expect(throws: Tracker.TrackingError.self) { try tracker.logMetrics("0000", points) }
    }

    @Test func anIdenticalPointIsKeptOnceADifferentOneTwice() throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let tracker = Tracker(store: try ws.store())
        let run = try makeRun(tracker)
        let point = MetricPoint(key: "auc", value: 0.8, timestamp: 100, step: 1)
        try tracker.logMetrics(run.id, [point, point])
        try tracker.logMetrics(run.id, [point, MetricPoint(key: "auc", value: 0.81, timestamp: 100, step: 1)])
        #expect(try tracker.metricHistory(of: run.id, key: "auc").map(\.value) == [0.8, 0.81])
    }

    @Test func ambiguousAndUnknownPrefixesAreRefused() throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let tracker = Tracker(store: try ws.store())
        let experiment = try tracker.experimentID(named: "j")
        for id in ["abcd" + String(repeating: "0", count: 28), "abce" + String(repeating: "0", count: 28)] {
            try tracker.create(RunRecord(id: id, experimentID: experiment, name: "j", status: .finished, startTime: 1, kind: .job))
        }
        #expect(try tracker.resolve("abcd").id.hasPrefix("abcd"))
        for (prefix, message) in [("abc", "matches 2 runs"), ("ff", "no run matches 'ff'"), ("xyz", "is not a run id"), ("", "is not a run id")] {
            do {
                _ = try tracker.resolve(prefix)
                Issue.record("'\(prefix)' should be refused")
            } catch {
                #expect("\(error)".contains(message))
            }
        }
    }

    @Test func everyStatusChangeLeavesAnAuditRow() throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let tracker = Tracker(store: try ws.store())
        var run = RunRecord(experimentID: try tracker.experimentID(named: "j"), name: "j", status: .running, startTime: 1, kind: .job)
        run.job = "j"
        try tracker.create(run)
        try tracker.update(run.id, action: "finish") { $0.status = .failed; $0.message = "boom" }
        let entries = try AuditLog.entries(in: tracker.store, entityType: "run", entityID: run.id)
        #expect(entries.map(\.action) == ["create", "finish"])
        #expect(entries.last?.from_state == "RUNNING" && entries.last?.to_state == "FAILED" && entries.last?.detail == "boom")
    }
}

@Suite("MLflow's search syntax: parsed with columns, answered by SQL")
struct RunFilterTests {
    @Test func parsesEveryKindOfComparison() throws {
        let filter = try RunFilter(parsing: "metrics.auc > 0.8 and params.l2 = '1.0' AND tags.mlops.trigger = 'schedule' and attributes.status IN ('FINISHED', 'FAILED') and tags.`my tag` LIKE 'a%' and params.\"x.y\" != \"z\"")
        #expect(filter.comparisons.map(\.entity) == [.metric, .param, .tag, .attribute, .tag, .param])
        #expect(filter.comparisons.map(\.key) == ["auc", "l2", "mlops.trigger", "status", "my tag", "x.y"])
        #expect(filter.comparisons[0].value == .number(0.8))
        #expect(filter.comparisons[3].value == .list(["FINISHED", "FAILED"]))
        #expect(filter.comparisons[4].comparator == "LIKE")
    }

    @Test(arguments: [
        ("metrics.auc >> 0.8", 14, "expected a value"),
        ("auc > 0.8", 1, "'auc' has no prefix"),
        ("metrcs.auc > 0.8", 1, "unknown prefix 'metrcs'"),
        ("metrics.auc > 0.8 or metrics.auc < 0.2", 19, "OR is not supported"),
        ("params.l2 = 1.0", 13, "params.l2 is compared with a string"),
        ("params.l2 > '1'", 11, "'>' does not apply to params.l2"),
        ("metrics.auc > 0.8 and", 22, "expected a comparison after AND"),
        ("tags.x = 'open", 10, "the quote opened here is not closed"),
        ("attributes.colour = 'x'", 1, "unknown attribute 'colour'"),
        ("metrics.auc 0.8", 13, "expected a comparator"),
    ])
    func malformedFiltersPointAtTheColumn(text: String, column: Int, message: String) {
        do {
            _ = try RunFilter(parsing: text)
            Issue.record("'\(text)' should be refused")
        } catch {
            #expect(error.column == column)
            #expect(error.message.hasPrefix(message))
            #expect(error.description.contains(text))
        }
    }

    @Test func searchFiltersAndOrdersRealRuns() throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        let tracker = Tracker(store: try ws.store())
        let tests = TrackingTests()
        let a = try tests.makeRun(tracker, start: 1, params: ["l2": "1.0"], tags: ["mlops.trigger": "schedule"], metrics: ["auc": 0.85])
        let b = try tests.makeRun(tracker, start: 2, params: ["l2": "1.0"], tags: ["mlops.trigger": "manual"], metrics: ["auc": 0.95])
        let c = try tests.makeRun(tracker, start: 3, params: ["l2": "0.1"], tags: ["mlops.trigger": "schedule"], metrics: ["auc": 0.75])
        let d = try tests.makeRun(tracker, job: "other", start: 4, params: ["l2": "1.0"], tags: ["mlops.trigger": "Schedule"])
        func ids(_ filter: String?, order: String? = nil, job: String? = nil) throws -> [String] {
            try RunSearch(job: job, filter: filter.map { try RunFilter(parsing: $0) },
                          orderBy: order.map { try RunSearch.OrderTerm.parseList($0) } ?? [], limit: 100).run(tracker.store).map(\.id)
        }
        #expect(try ids(nil) == [d.id, c.id, b.id, a.id])
        #expect(try ids("metrics.auc > 0.8 and params.l2 = '1.0'") == [b.id, a.id])
        #expect(try ids("tags.mlops.trigger = 'schedule'") == [c.id, a.id])
        #expect(try ids("tags.mlops.trigger LIKE 'sch%'") == [c.id, a.id])
        #expect(try ids("tags.mlops.trigger ILIKE 'sch%'") == [d.id, c.id, a.id])
        #expect(try ids("params.l2 != '1.0'") == [c.id])
        #expect(try ids("attributes.job IN ('other')") == [d.id])
        #expect(try ids(nil, order: "metrics.auc DESC") == [b.id, a.id, c.id, d.id])
        #expect(try ids(nil, order: "metrics.auc ASC") == [c.id, a.id, b.id, d.id])
        #expect(try ids("attributes.start_time >= 2", order: "start_time", job: "j") == [b.id, c.id])
    }
}

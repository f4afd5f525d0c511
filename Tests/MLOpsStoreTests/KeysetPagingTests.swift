import Foundation
import Testing
@testable import MLOpsStore

/// Keyset paging: walking a search page by page with cursors gives every run once, in the same
/// order as one big page, whatever the order (NULLs last, ties broken by start time and id), on
/// either backend; a run added meanwhile does not shift the pages.
@Suite("Run search, page by page")
struct KeysetPagingTests {
    func filled() throws -> (Store, String, [String]) {
        let folder = NSTemporaryDirectory() + "mlops-keyset-" + UUID().uuidString.prefix(8)
        let store = try Store(path: try PostgresAdmin.testDatabase() ?? "\(folder)/mlops.sqlite")
        let tracker = Tracker(store: store)
        let experiment = try tracker.experimentID(named: "j")
        var ids: [String] = []
        for i in 0..<37 {
            var run = RunRecord(experimentID: experiment, name: "r\(i)", status: .finished, startTime: Int64(1000 + i % 5), kind: .job)
            run.job = "j"
            try tracker.create(run, params: i % 4 == 0 ? [:] : ["l2": String(i % 3)])
            // Some runs have no auc at all, several share one.
            if i % 6 != 0 { try tracker.logMetrics(run.id, [MetricPoint(key: "auc", value: Double(i % 7) / 10, timestamp: 1, step: 0)]) }
            ids.append(run.id)
        }
        return (store, folder, ids)
    }

    func walk(_ store: Store, _ search: RunSearch, pageSize: Int) throws -> [String] {
        var search = search
        search.limit = pageSize
        var seen: [String] = []
        while true {
            let (page, cursors) = try store.read { tx in
                let runs = try search.run(tx)
                return (runs, try search.cursors(tx, of: runs))
            }
            seen += page.map(\.id)
            guard page.count == pageSize, let last = cursors.last else { return seen }
            search.after = RunSearch.Cursor(token: last.token)
        }
    }

    @Test(arguments: ["", "metrics.auc DESC", "metrics.auc ASC", "params.l2 DESC, metrics.auc ASC", "attributes.run_name", "start_time ASC"])
    func pagesGiveEveryRunOnceInTheOrderOfOneBigPage(_ orderBy: String) throws {
        let (store, folder, ids) = try filled()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var search = RunSearch(kind: .job, orderBy: orderBy.isEmpty ? [] : try RunSearch.OrderTerm.parseList(orderBy), limit: 1000)
        let whole = try search.run(store).map(\.id)
        #expect(Set(whole) == Set(ids))
        for size in [1, 4, 10] {
            #expect(try walk(store, search, pageSize: size) == whole, "pages of \(size), order by '\(orderBy)'")
        }
        search.limit = 10
        let first = try search.run(store)
        // A run that sorts first, added after the first page was read, does not shift the second.
        let cursor = try store.read { try search.cursors($0, of: first) }.last
        var newcomer = RunRecord(experimentID: first[0].experimentID, name: "new", status: .finished, startTime: 99_999, kind: .job)
        newcomer.job = "j"
        try Tracker(store: store).create(newcomer)
        search.after = cursor
        // (It sorts before the cursor or after everything, whichever the order.)
        #expect(try search.run(store).map(\.id) == Array(whole[10..<20]))
    }
}

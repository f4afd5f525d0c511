import Foundation
import Hummingbird
import MLOpsCore

/// `/runs/ID/metrics/KEY.csv`: every point of a metric, as `step,value,timestamp_ms` lines (the
/// chart shows a summary; this is the whole), read a page at a time.
struct MetricExport {
    let view: WebView
    let runID: String
    let key: String
    static let page = 50_000

    func csv() throws -> Response {
        guard try Tracker(store: view.store).run(runID) != nil else { throw PageNotFound(message: "No run \(runID)") }
        var text = "step,value,timestamp_ms\n"
        var offset = 0
        while true {
            let points = try view.store.read { try Tracker.metricHistory($0, runID, key: key, limit: Self.page, offset: offset) }
            for point in points { text += "\(point.step),\(point.value.isNaN ? "NaN" : String(point.value)),\(point.timestamp)\n" }
            if points.count < Self.page { break }
            offset += points.count
        }
        let name = String(key.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" })
        return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(name).csv\""],
                        body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

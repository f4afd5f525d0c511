import Foundation
import Hummingbird
import MLOpsCore
import MLOpsText

/// A stage attempt's log (`stdout.log`, then `stderr.log`): the page shows its last 64 KiB, and
/// while the run is live the page asks for what came after its offset, once a second; an ended
/// run's log is whole, so nothing polls it.
struct RunLog {
    let view: WebView
    let runID: String
    /// The run, when the caller has read it already.
    var run: RunRecord?
    static let tailBytes: Int64 = 64 << 10

    init(view: WebView, runID: String) {
        self.view = view
        self.runID = runID
    }

    init(view: WebView, run: RunRecord) {
        self.view = view
        self.runID = run.id
        self.run = run
    }

    struct Chunk {
        var text: String
        var offset: Int64
        var live: Bool
    }

    func file() throws -> (path: String, live: Bool) {
        guard let run = try run ?? Tracker(store: view.store).run(runID) else { throw PageNotFound(message: "No run \(runID)") }
        let folder = view.workspace.runDirectory(experiment: run.job ?? "", runID: run.id)
        return ("\(folder)/stdout.log", run.status == .running)
    }

    /// The last 64 KiB, starting at a line.
    func tail() throws -> Chunk {
        let (path, live) = try file()
        let size = Self.size(path)
        let start = max(0, size - Self.tailBytes)
        var text = Self.read(path, from: start, to: size)
        if start > 0, let newline = text.firstIndex(of: "\n") { text = "[… the first \(start) bytes are in \(path)]\n" + text[text.index(after: newline)...] }
        return Chunk(text: text, offset: size, live: live)
    }

    /// What came after `offset`, at most 1 MiB at a time, as JSON.
    func json(from offset: Int64) throws -> Response {
        let (path, live) = try file()
        let size = Self.size(path)
        let start = min(max(0, offset), size)
        let end = min(size, start + (1 << 20))
        let body = JSONWriter.bytes(["text": Self.read(path, from: start, to: end), "offset": end, "live": live || end < size] as [String: Any])
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func size(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }

    static func read(_ path: String, from start: Int64, to end: Int64) -> String {
        guard end > start, let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        try? handle.seek(toOffset: UInt64(start))
        let data = (try? handle.read(upToCount: Int(end - start))) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

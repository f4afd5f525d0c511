import Foundation

/// A stand-in for Ray's Jobs API on a loopback port, for the error paths a real head cannot
/// produce on demand (a restart's 404s, a 503, a lost answer, a job that never schedules). It
/// keeps jobs as Ray does: each walks the statuses the test gives it, one per status request, and
/// answers as the real API does (a duplicate id is a 500 "already exists", an unknown one a 404).
final class FakeRayServer: @unchecked Sendable {
    struct Job {
        var submission: [String: Any]
        /// Statuses still to go; the last one stays.
        var script: [String]
        var logs = ""
        var exitCode: Int?
        var stopRequests = 0
    }

    private let fd: Int32
    let port: Int
    private let lock = NSLock()
    private var state = State()
    private var thread: Thread?

    struct State {
        var jobs: [String: Job] = [:]
        var requests: [String] = []
        /// Answers to force, by request ("POST /api/jobs/"), used once each.
        var forced: [String: [(Int, String)]] = [:]
        /// What a new job's statuses will be, and the log it writes as it runs.
        var script = ["PENDING", "RUNNING", "SUCCEEDED"]
        var logLines: [String] = ["line 1", "line 2"]
        var exitCode: Int? = 0
        var uploads: [String: Int] = [:]
        var closed = false
    }

    var address: String { "http://127.0.0.1:\(port)" }

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 64) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &addr) { _ = $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        port = Int(UInt16(bigEndian: addr.sin_port))
        let thread = Thread { [self] in self.serve() }
        thread.start()
        self.thread = thread
    }

    /// The head goes away: every connection from now on is dropped unanswered.
    func close() {
        with { $0.closed = true }
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
    }

    func with<T>(_ body: (inout State) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&state)
    }
    func job(_ id: String) -> Job? { with { $0.jobs[id] } }
    func requests(_ prefix: String) -> [String] { with { $0.requests.filter { $0.hasPrefix(prefix) } } }

    private func serve() {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 { return }
            // A thread of its own: the suite's other tests may hold every thread of Dispatch's pool.
            Thread { self.handle(client) }.start()
        }
    }

    private func handle(_ client: Int32) {
        defer { Glibc.close(client) }
        if with({ $0.closed }) { return }
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Int?
        var contentLength = 0
        while true {
            let n = read(client, &buffer, buffer.count)
            if n <= 0 { return }
            data += buffer[..<n]
            if headerEnd == nil, let range = findHeaderEnd(data) {
                headerEnd = range
                let head = String(decoding: data[..<range], as: UTF8.self)
                for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    contentLength = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            if let headerEnd, data.count >= headerEnd + 4 + contentLength { break }
        }
        let head = String(decoding: data[..<headerEnd!], as: UTF8.self)
        let requestLine = head.split(separator: "\r\n").first.map(String.init) ?? ""
        let parts = requestLine.split(separator: " ")
        let method = String(parts[0]), path = String(parts[1])
        let body = Array(data[(headerEnd! + 4)...])
        let (status, text) = route(method, path, body)
        let reply = "HTTP/1.1 \(status) X\r\nContent-Type: application/json\r\nContent-Length: \(text.utf8.count)\r\nConnection: close\r\n\r\n\(text)"
        _ = reply.withCString { write(client, $0, strlen($0)) }
    }

    private func findHeaderEnd(_ data: [UInt8]) -> Int? {
        guard data.count >= 4 else { return nil }
        for i in 0...(data.count - 4) where data[i] == 13 && data[i + 1] == 10 && data[i + 2] == 13 && data[i + 3] == 10 { return i }
        return nil
    }

    private func json(_ object: Any) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object)) ?? Data(), as: UTF8.self)
    }

    private func route(_ method: String, _ path: String, _ body: [UInt8]) -> (Int, String) {
        with { s in
            let key = "\(method) \(path)"
            s.requests.append(key)
            if var answers = s.forced[key] ?? s.forced["\(method) *"], !answers.isEmpty {
                let answer = answers.removeFirst()
                if s.forced[key] != nil { s.forced[key] = answers } else { s.forced["\(method) *"] = answers }
                return answer
            }
            if method == "GET", path == "/api/version" { return (200, json(["ray_version": "fake"])) }
            if path.hasPrefix("/api/packages/") {
                if method == "GET" { return s.uploads[path] != nil ? (200, "{}") : (404, "no package") }
                s.uploads[path] = body.count
                return (200, "{}")
            }
            if method == "POST", path == "/api/jobs/" {
                guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
                      let id = object["submission_id"] as? String else { return (400, "bad request") }
                if s.jobs[id] != nil { return (500, "Job with submission_id \(id) already exists. Please use a different submission_id.") }
                s.jobs[id] = Job(submission: object, script: s.script, exitCode: s.exitCode)
                return (200, json(["job_id": id, "submission_id": id]))
            }
            let pieces = path.split(separator: "/").map(String.init)   // api, jobs, ID, [logs|stop]
            guard pieces.count >= 3, pieces[0] == "api", pieces[1] == "jobs" else { return (404, "not found") }
            let id = pieces[2].removingPercentEncoding ?? pieces[2]
            guard var job = s.jobs[id] else { return (404, "Job \(id) does not exist") }
            defer { s.jobs[id] = job }
            if pieces.count == 4, pieces[3] == "logs" { return (200, json(["logs": job.logs])) }
            if pieces.count == 4, pieces[3] == "stop" {
                job.stopRequests += 1
                let status = job.script.first ?? "RUNNING"
                // Ray cannot stop a job that waits for resources.
                guard status == "RUNNING" else { return (200, json(["stopped": false])) }
                job.script = ["STOPPED"]
                return (200, json(["stopped": true]))
            }
            let status = job.script.count > 1 ? job.script.removeFirst() : job.script[0]
            if status == "RUNNING" || ["SUCCEEDED", "FAILED"].contains(status) {
                let written = job.logs.split(separator: "\n").count
                if written < s.logLines.count { job.logs += s.logLines[written] + "\n" }
            }
            if ["SUCCEEDED", "FAILED"].contains(status) {
                for line in s.logLines.dropFirst(job.logs.split(separator: "\n").count) { job.logs += line + "\n" }
            }
            var info: [String: Any] = ["status": status, "submission_id": id]
            if status == "FAILED" {
                info["error_type"] = "JOB_ENTRYPOINT_COMMAND_ERROR"
                info["message"] = "Job entrypoint command failed with exit code \(job.exitCode ?? 1), last available logs (truncated to 20,000 chars):\n\(job.logs)"
                info["driver_exit_code"] = job.exitCode ?? 1
            }
            if status == "STOPPED" { info["message"] = "Job was intentionally stopped." }
            return (200, json(info))
        }
    }
}

import Foundation

/// A Ray job's log, copied into the stage's own stdout log as it grows. Ray's REST API serves the
/// whole log each time, so the follower keeps a byte offset: what is past it is new. Past `cap`
/// bytes it stops copying and says so once; whole lines are echoed with the stage's prefix, as a
/// local stage's are. Ray keeps a job's log on one node only, so the runner fetches a last time
/// when the job ends.
struct RayLogFollower {
    let path: String
    let cap: Int64
    let echo: (@Sendable (Console.Stream, Substring) -> Void)?
    /// Bytes of Ray's log already handled.
    private(set) var offset: Int64
    private var partial: [UInt8] = []
    private var capped = false

    /// Starts at `offset`. When the file on this host holds more than that (a runner died after
    /// writing and before saving its offset), it is cut back, so no line is written twice.
    init(path: String, offset: Int64, cap: Int64, echo: (@Sendable (Console.Stream, Substring) -> Void)?) {
        self.path = path
        self.offset = offset
        self.cap = cap
        self.echo = echo
        var info = stat()
        if offset < cap, stat(path, &info) == 0, Int64(info.st_size) > offset { truncate(path, off_t(offset)) }
        if offset > 0, stat(path, &info) != 0 || Int64(info.st_size) < offset {
            append(Array("[mlops: reattached at byte \(offset) of the Ray job's log; what came before is in the first runner's copy, or `ray job logs`]\n".utf8))
        }
    }

    /// Takes the whole log as Ray gives it; returns whether there was anything new.
    @discardableResult
    mutating func take(_ log: [UInt8]) -> Bool {
        guard Int64(log.count) > offset else { return false }
        let fresh = log[Int(offset)...]
        offset = Int64(log.count)
        let room = max(0, cap - (offset - Int64(fresh.count)))
        if !capped {
            if Int64(fresh.count) <= room {
                append(Array(fresh))
            } else {
                append(Array(fresh.prefix(Int(room))))
                append(Array("\n[mlops: log capped at \(ByteCount.text(cap)); the rest is on the Ray head: `ray job logs <submission id>`]\n".utf8))
                capped = true
            }
        }
        echoLines(fresh)
        return true
    }

    /// The last unterminated line, at the end.
    mutating func flush() {
        guard !partial.isEmpty, let echo else { partial = []; return }
        echo(.stdout, Substring(String(decoding: partial, as: UTF8.self)))
        partial = []
    }

    mutating func echoLines(_ bytes: ArraySlice<UInt8>) {
        guard let echo else { return }
        partial += bytes
        guard let last = partial.lastIndex(of: UInt8(ascii: "\n")) else { return }
        let text = String(decoding: partial[..<last], as: UTF8.self)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) { echo(.stdout, line) }
        partial.removeSubrange(...last)
    }

    func append(_ bytes: [UInt8]) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n <= 0 { break }
                done += n
            }
        }
    }
}

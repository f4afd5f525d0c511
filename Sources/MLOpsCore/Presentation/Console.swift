import Foundation

/// The terminal: whole lines written under one lock so stages never interleave mid-line, and
/// colours only when the stream is a terminal (and NO_COLOR is unset).
public final class Console: @unchecked Sendable {
    public static let shared = Console()

    private let lock = NSLock()
    public let stdoutIsTTY = isatty(1) == 1
    public let stderrIsTTY = isatty(2) == 1
    let noColor = ProcessInfo.processInfo.environment["NO_COLOR"] != nil

    public enum Stream: Sendable { case stdout, stderr }

    public func write(_ text: String, to stream: Stream = .stdout) {
        var bytes = Array(text.utf8)
        lock.lock()
        defer { lock.unlock() }
        Self.writeAll(stream == .stdout ? 1 : 2, &bytes)
    }

    public func writeBytes(_ bytes: [UInt8], to stream: Stream) {
        var copy = bytes
        lock.lock()
        defer { lock.unlock() }
        Self.writeAll(stream == .stdout ? 1 : 2, &copy)
    }

    static func writeAll(_ fd: Int32, _ bytes: inout [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 { if errno == EINTR { continue }; return }
            offset += n
        }
    }

    public enum Color: String, Sendable, CaseIterable {
        case red = "31", green = "32", yellow = "33", blue = "34", magenta = "35", cyan = "36", gray = "90", bold = "1"
    }

    public func paint(_ text: String, _ color: Color, for stream: Stream = .stdout) -> String {
        let tty = stream == .stdout ? stdoutIsTTY : stderrIsTTY
        guard tty, !noColor else { return text }
        return "\u{1B}[\(color.rawValue)m\(text)\u{1B}[0m"
    }
}

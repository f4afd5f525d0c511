import CProcessSpawn
import Foundation

/// A command started in its own process group, its output copied to log files (and echoed), with a
/// deadline: on timeout or cancellation the whole group gets TERM, then KILL after a grace period,
/// so grandchildren never outlive their stage.
public final class ChildProcess: @unchecked Sendable {
    public struct Options: Sendable {
        public var executable: String
        /// argv, including argv[0].
        public var arguments: [String]
        public var environment: [String: String]
        public var workingDirectory: String?
        public var stdoutLog: Int32
        public var stderrLog: Int32
        public var timeout: Duration?
        public var killGrace: Duration
        /// Receives whole lines of output (stream, line without its newline).
        public var onLine: (@Sendable (Console.Stream, Substring) -> Void)?
    }

    public struct Termination: Sendable, Hashable {
        /// The exit code, or nil when a signal ended it.
        public var exitCode: Int32?
        public var signal: Int32?
        public var timedOut: Bool
        public var cancelled: Bool
        /// Processes of the group still there after the command itself ended, and then stopped.
        public var leftoversStopped: Bool
    }

    public struct LaunchError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public let pid: Int32
    let options: Options
    let outRead: Int32
    let errRead: Int32
    let wakeRead: Int32
    let wakeWrite: Int32
    private let lock = NSLock()
    private var cancelRequested = false
    private var forceRequested = false
    /// Set, under the lock, before the descriptors are closed: a late cancel must not write to a
    /// descriptor number the process has since reused for something else.
    private var finished = false

    public static func launch(_ options: Options) throws(LaunchError) -> ChildProcess {
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1], wakePipe: [Int32] = [-1, -1]
        guard mlops_pipe(&outPipe) == 0, mlops_pipe(&errPipe) == 0, mlops_pipe(&wakePipe) == 0 else {
            throw LaunchError(description: "cannot create pipes: \(String(cString: strerror(errno)))")
        }
        let argv = options.arguments.map { strdup($0) } + [nil]
        let envp = options.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
            close(outPipe[1])
            close(errPipe[1])
        }
        var pid: pid_t = 0
        let rc = options.workingDirectory.withOptionalCString { cwd in
            mlops_spawn(options.executable, argv, envp, cwd, outPipe[1], errPipe[1], &pid)
        }
        guard rc == 0 else {
            [outPipe[0], errPipe[0], wakePipe[0], wakePipe[1]].forEach { close($0) }
            throw LaunchError(description: "cannot start '\(options.executable)': \(String(cString: strerror(rc)))")
        }
        let process = ChildProcess(pid: pid, options: options, outRead: outPipe[0], errRead: errPipe[0],
                                   wakeRead: wakePipe[0], wakeWrite: wakePipe[1])
        liveLock.lock()
        live[pid] = process
        liveLock.unlock()
        return process
    }

    private init(pid: Int32, options: Options, outRead: Int32, errRead: Int32, wakeRead: Int32, wakeWrite: Int32) {
        self.pid = pid
        self.options = options
        self.outRead = outRead
        self.errRead = errRead
        self.wakeRead = wakeRead
        self.wakeWrite = wakeWrite
    }

    /// Every supervised process of this runner, so that a second Ctrl-C can KILL them all at once.
    private static let liveLock = NSLock()
    nonisolated(unsafe) private static var live: [Int32: ChildProcess] = [:]

    /// KILLs every live process group at once, without waiting for grace periods.
    public static func killAll() {
        liveLock.lock()
        let processes = Array(live.values)
        liveLock.unlock()
        processes.forEach { $0.cancel(force: true) }
    }

    /// Asks the group to stop: TERM now, KILL after the grace period (or at once when `force`).
    public func cancel(force: Bool = false) {
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        cancelRequested = true
        if force { forceRequested = true }
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    /// Waits on a thread of its own (never on the concurrency pool) until the command and its
    /// output are done.
    public func wait() async -> Termination {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: self.superviseBlocking()) }
            thread.stackSize = 256 * 1024
            thread.start()
        }
    }

    func requests() -> (cancel: Bool, force: Bool) {
        lock.lock()
        defer { lock.unlock() }
        return (cancelRequested, forceRequested)
    }

    private func superviseBlocking() -> Termination {
        var supervision = Supervision(self)
        while supervision.step() {}
        return finish(supervision)
    }

    /// Reaps the command if it is still unreaped, flushes partial lines, closes the descriptors and
    /// says how it ended.
    private func finish(_ supervision: Supervision) -> Termination {
        var status = supervision.status
        if status == nil {
            var raw: Int32 = 0
            if mlops_waitpid(pid, &raw, 1) == pid { status = raw }
        }
        for (index, splitter) in supervision.splitters.enumerated() {
            if let rest = splitter.remainder, let onLine = options.onLine { onLine(index == 0 ? .stdout : .stderr, rest) }
        }
        lock.lock()
        finished = true
        [outRead, errRead, wakeRead, wakeWrite].forEach { close($0) }
        lock.unlock()
        Self.liveLock.lock()
        Self.live[pid] = nil
        Self.liveLock.unlock()
        if supervision.pidfd >= 0 { close(supervision.pidfd) }
        let raw = status ?? 0
        return Termination(exitCode: mlops_wifexited(raw) != 0 ? mlops_wexitstatus(raw) : nil,
                           signal: mlops_wifsignaled(raw) != 0 ? mlops_wtermsig(raw) : nil,
                           timedOut: supervision.timedOut, cancelled: supervision.cancelled, leftoversStopped: supervision.leftovers)
    }
}

/// Cuts a byte stream into lines, holding a partial line until its newline arrives.
struct LineSplitter {
    private var pending: [UInt8] = []

    mutating func feed(_ bytes: ArraySlice<UInt8>, _ emit: (Substring) -> Void) {
        var start = bytes.startIndex
        for i in bytes.indices where bytes[i] == UInt8(ascii: "\n") {
            if pending.isEmpty {
                emit(Substring(decoding: bytes[start..<i], as: UTF8.self))
            } else {
                pending += bytes[start..<i]
                emit(Substring(decoding: pending, as: UTF8.self))
                pending.removeAll(keepingCapacity: true)
            }
            start = i + 1
        }
        pending += bytes[start...]
        if pending.count > 1 << 20 {
            emit(Substring(decoding: pending, as: UTF8.self))
            pending.removeAll()
        }
    }

    var remainder: Substring? { pending.isEmpty ? nil : Substring(decoding: pending, as: UTF8.self) }
}

extension Optional where Wrapped == String {
    func withOptionalCString<R>(_ body: (UnsafePointer<CChar>?) -> R) -> R {
        switch self {
        case let .some(text): return text.withCString { body($0) }
        case .none: return body(nil)
        }
    }
}

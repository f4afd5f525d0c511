import CProcessSpawn
import Foundation

extension ChildProcess {
    /// One supervised command's state between polls: its output pipes, whether it has exited, and
    /// where its stop sequence stands (running; TERM sent, KILL due at a time; KILL sent). Each
    /// `step` waits for output, exit, a cancel request or the next deadline, whichever is first.
    struct Supervision {
        enum Phase { case running, terminating(killAt: ContinuousClock.Instant), killed(at: ContinuousClock.Instant) }

        let process: ChildProcess
        let clock = ContinuousClock()
        let deadline: ContinuousClock.Instant?
        let pidfd: Int32
        var phase = Phase.running
        var status: Int32?
        var timedOut = false
        var cancelled = false
        var leftovers = false
        var outOpen = true, errOpen = true
        var splitters = [LineSplitter(), LineSplitter()]
        var buffer = [UInt8](repeating: 0, count: 65_536)

        init(_ process: ChildProcess) {
            self.process = process
            deadline = process.options.timeout.map { ContinuousClock().now + $0 }
            pidfd = mlops_pidfd_open(process.pid)
        }

        var pid: Int32 { process.pid }
        var outputClosed: Bool { !outOpen && !errOpen }

        func signalGroup(_ sig: Int32) { _ = kill(-pid, sig) }
        func groupExists() -> Bool { kill(-pid, 0) == 0 || errno == EPERM }

        mutating func beginTermination() {
            guard case .running = phase else { return }
            signalGroup(SIGTERM)
            phase = .terminating(killAt: clock.now + process.options.killGrace)
        }

        /// One round: false when supervision is over.
        mutating func step() -> Bool {
            if status != nil && outputClosed {
                guard groupExists() else { return false }
                // Output closed but members remain (they redirected it): stop them too.
                leftovers = true
                if case .running = phase { beginTermination() }
            }
            var fds = [
                pollfd(fd: outOpen ? process.outRead : -1, events: Int16(POLLIN), revents: 0),
                pollfd(fd: errOpen ? process.errRead : -1, events: Int16(POLLIN), revents: 0),
                pollfd(fd: status == nil ? pidfd : -1, events: Int16(POLLIN), revents: 0),
                pollfd(fd: process.wakeRead, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&fds, nfds_t(fds.count), pollTimeout(now: clock.now))
            if ready < 0 && errno != EINTR { return false }
            if outOpen, fds[0].revents != 0, !drain(process.outRead, 0) { outOpen = false }
            if errOpen, fds[1].revents != 0, !drain(process.errRead, 1) { errOpen = false }
            if fds[3].revents != 0 { takeRequests() }
            if status == nil, pidfd < 0 || fds[2].revents != 0 { reap() }
            return advancePhase(now: clock.now)
        }

        /// Milliseconds until the next thing to do without an event, -1 for none.
        func pollTimeout(now: ContinuousClock.Instant) -> Int32 {
            var wakeAt: ContinuousClock.Instant?
            switch phase {
            case .running: if status == nil, let deadline { wakeAt = deadline }
            case let .terminating(killAt): wakeAt = killAt
            // After KILL: block until the command exits (the pidfd wakes us), then give leftovers 2 s.
            case let .killed(at): wakeAt = status == nil ? nil : at + .seconds(2)
            }
            if status != nil, outputClosed { wakeAt = min(wakeAt ?? now + .milliseconds(20), now + .milliseconds(20)) }
            // Without a pidfd (kernels before 5.3) nothing wakes us when the command exits: look every 10 ms.
            if status == nil, pidfd < 0 { wakeAt = min(wakeAt ?? now + .milliseconds(10), now + .milliseconds(10)) }
            guard let wakeAt else { return -1 }
            let remaining = wakeAt - now
            return max(0, Int32(clamping: remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000 + 1))
        }

        /// Copies what a pipe holds to its log (and the terminal); false once the pipe is closed.
        mutating func drain(_ fd: Int32, _ index: Int) -> Bool {
            let options = process.options
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    var slice = Array(buffer[0..<n])
                    Console.writeAll(index == 0 ? options.stdoutLog : options.stderrLog, &slice)
                    if let onLine = options.onLine {
                        let stream: Console.Stream = index == 0 ? .stdout : .stderr
                        splitters[index].feed(buffer[0..<n]) { onLine(stream, $0) }
                    }
                    continue
                }
                if n == 0 { return false }
                if errno == EINTR { continue }
                return errno == EAGAIN || errno == EWOULDBLOCK
            }
        }

        /// A cancel (TERM, then KILL after the grace) or a forced stop (KILL now).
        mutating func takeRequests() {
            var sink = [UInt8](repeating: 0, count: 64)
            _ = read(process.wakeRead, &sink, sink.count)
            let request = process.requests()
            if request.cancel { cancelled = true; beginTermination() }
            if request.force { signalGroup(SIGKILL); phase = .killed(at: clock.now) }
        }

        /// Collects the command's exit status; members of its group still there are stopped.
        mutating func reap() {
            var raw: Int32 = 0
            guard mlops_waitpid(pid, &raw, 0) == pid else { return }
            status = raw
            if groupExists() { leftovers = true; beginTermination() }
        }

        /// The deadline, the grace period and, after KILL, how long a stuck process is waited for.
        mutating func advancePhase(now: ContinuousClock.Instant) -> Bool {
            switch phase {
            case .running:
                if status == nil, let deadline, now >= deadline { timedOut = true; beginTermination() }
            case let .terminating(killAt):
                if now >= killAt { signalGroup(SIGKILL); phase = .killed(at: now) }
            case let .killed(at):
                // After KILL, stop waiting for a stuck (uninterruptible) process and its output.
                if status != nil, now >= at + .seconds(2) { return false }
            }
            return true
        }
    }
}

import Foundation

/// Runs an attempt as a local process group (`ChildProcess`): its output copied to the log files,
/// TERM to the whole group at the deadline or on cancellation, KILL after the grace period. Its
/// handle is the process's identity (pid, start time, boot id, host).
public struct LocalProcessExecutor: StageExecutor {
    public let name = "local"

    public init() {}

    public func run(_ command: StageCommand, started: @Sendable (AttemptHandle) -> Void) async -> StageTermination {
        let stdoutFD = open(command.stdoutLog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        let stderrFD = open(command.stderrLog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        defer {
            if stdoutFD >= 0 { close(stdoutFD) }
            if stderrFD >= 0 { close(stderrFD) }
        }
        guard stdoutFD >= 0, stderrFD >= 0 else {
            let folder = (command.stdoutLog as NSString).deletingLastPathComponent
            return .failed("cannot open the stage's log files in \(folder): \(String(cString: strerror(errno)))", exitCode: nil)
        }
        let options = ChildProcess.Options(
            executable: command.executable, arguments: command.arguments, environment: command.environment,
            workingDirectory: command.workingDirectory, stdoutLog: stdoutFD, stderrLog: stderrFD,
            timeout: command.timeout?.duration, killGrace: command.killGrace.duration, onLine: command.echo)
        let process: ChildProcess
        do {
            process = try ChildProcess.launch(options)
        } catch {
            return .failed(error.description, exitCode: 127)
        }
        started(.process(ProcessIdentity.of(pid: process.pid)))
        let termination = await withTaskCancellationHandler {
            await process.wait()
        } onCancel: {
            process.cancel()
        }
        return Self.termination(termination, timeout: command.timeout)
    }

    static func termination(_ termination: ChildProcess.Termination, timeout: SpecDuration?) -> StageTermination {
        if termination.timedOut, let timeout { return .timedOut(timeout) }
        if termination.cancelled { return .killed("stopped by request") }
        if let code = termination.exitCode {
            return code == 0 ? .succeeded : .failed("exit code \(code)", exitCode: code)
        }
        let signal = termination.signal ?? 0
        return .failed("killed by signal \(signal) (\(String(cString: strsignal(signal))))", exitCode: 128 + signal)
    }

    public func probe(_ handle: AttemptHandle) async -> AttemptProbe {
        guard case let .process(identity) = handle else { return .unknown }
        switch identity.isAlive() {
        case true?: return .alive
        case false?: return .lost("its process (pid \(identity.pid)) is gone")
        case nil: return .unknown
        }
    }

    /// A local attempt's output went to pipes its dead runner held: there is nothing to follow.
    public func reattach(_ handle: AttemptHandle, _ command: StageCommand, updated: @Sendable (AttemptHandle) -> Void) async -> StageTermination? {
        nil
    }

    /// KILLs the attempt's whole process group, if it is still the process that was started.
    public func stop(_ handle: AttemptHandle) async {
        guard case let .process(identity) = handle, identity.isAlive() == true else { return }
        kill(-identity.pid, SIGKILL)
    }
}

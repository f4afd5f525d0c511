import ArgumentParser
import Foundation
import MLOpsCore

struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "The daemon that runs the workspace unattended: schedules, monitors, retrains, rollouts.",
        discussion: """
            Each tick it closes runs orphaned by a dead runner (resuming scheduled ones from their failed \\
            stages), fires due schedules under their `catchup` and `concurrency`, evaluates the monitors and \\
            starts the retrains they ask for, advances rollouts and delivers notifications. Several daemons \\
            may share a store: each fire starts once. SIGTERM or SIGINT stops taking work, lets running \\
            jobs finish for --grace, then stops them; a second signal kills them at once. Logs are logfmt \\
            lines on stderr.
            """)

    @Option(help: "Time between ticks, e.g. 15s or 1m.") var tick = "15s"
    @Option(help: "How long running jobs may finish after SIGTERM before they are stopped.") var grace = "60s"
    @Flag(help: "One tick, wait for what it started, and exit.") var once = false
    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        let spec = try options.loadSpec()
        let (tickEvery, graceTime) = try await reportingErrors { () -> (SpecDuration, SpecDuration) in
            func parse(_ text: String, _ flag: String) throws -> SpecDuration {
                guard case let .success(d) = SpecDuration.parse(text), d.milliseconds > 0 else {
                    throw CLIError.invalidInput("\(flag) '\(text)' is not a duration like 15s, 1m or 2h")
                }
                return d
            }
            return (try parse(tick, "--tick"), try parse(grace, "--grace"))
        }
        let store = try await reportingErrors { try options.openStore() }
        let daemon = SchedulerDaemon(workspace: options.resolved, spec: spec, store: store)
        try await reportingErrors { try await daemon.register() }
        if once {
            await daemon.tick(now: store.nowMillis())
            await daemon.waitIdle()
            await daemon.stop(grace: .zero)
            return
        }
        let stop = StopSignals(quiet: true)
        let loop = Task {
            while !Task.isCancelled {
                await daemon.tick(now: store.nowMillis())
                try? await Task.sleep(for: .milliseconds(tickEvery.milliseconds))
            }
        }
        stop.install { loop.cancel() }
        await loop.value
        // A stop asked for by a signal is the daemon's normal end: exit 0 once nothing is left running.
        await daemon.stop(grace: .milliseconds(graceTime.milliseconds))
    }
}

import ArgumentParser
import MLOpsCore


struct MLOps: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlops",
        abstract: "Runs a model's life unattended: jobs, tracking, registry, rollouts, monitoring.",
        discussion: """
            Exit status: 0 success, 1 a stage or the job failed, 2 invalid input (spec, param, run id, filter), \
            3 refused (the job is already running), 64 a malformed command line, 130/143 stopped by SIGINT/SIGTERM.
            """,
        version: MLOpsVersion.current,
        subcommands: [ValidateCommand.self, PlanCommand.self, RunCommand.self, RunsCommand.self, ModelsCommand.self, RolloutsCommand.self,
                      PromoteCommand.self, RollbackCommand.self, AbortCommand.self, ServeCommand.self, ServerCommand.self, OutcomesCommand.self, MonitorCommand.self, DriftCommand.self, ScheduleCommand.self, SchedulerCommand.self, SimulateCommand.self, LogCommand.self]
    )
}

import ArgumentParser

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "Inspect run history.",
        subcommands: [RunsListCommand.self, RunsShowCommand.self, RunsLogsCommand.self],
        defaultSubcommand: RunsListCommand.self)
}

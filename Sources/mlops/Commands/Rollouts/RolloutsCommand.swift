import ArgumentParser
import Foundation
import MLOpsCore

struct RolloutsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollouts",
        abstract: "Rollouts of new model versions: where each stands, its analysis and history.",
        subcommands: [RolloutsListCommand.self, RolloutsShowCommand.self, RolloutsAdvanceCommand.self],
        defaultSubcommand: RolloutsListCommand.self)
}

extension WorkspaceOptions {
    func openController() throws -> RolloutController {
        RolloutController(store: try openStore())
    }
}

extension WorkspaceOptions {
    /// Announces what a command changed; a missing or broken spec leaves the events for later.
    func deliverNotifications() async {
        guard let store = try? openStore(), let spec = try? SpecParser.load(path: resolved.specPath) else { return }
        await Notifier(store: store, spec: spec).deliverPending(budget: .seconds(3))
    }
}

/// A refused transition ends with status 3, an unknown model with 2.
func reportingRolloutErrors<T>(_ body: () async throws -> T) async throws -> T {
    try await reportingRegistryErrors {
        do { return try await body() } catch let error as RolloutStore.RolloutError { throw CLIError.refused(error.description) }
    }
}

/// One line a transition: what changed, and why.
func printTransitions(_ transitions: [RolloutStore.Transition]) {
    for t in transitions { Console.shared.write(t.summary + "\n") }
}

struct RolloutsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Each model's latest rollout, or every rollout of MODEL.")

    @Argument(help: "Only this model's rollouts, newest first.") var model: String?
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        try await reportingRolloutErrors {
            let rollouts = try RolloutStore(store: try options.openStore()).list(model: model)
            if json { return printJSON(rollouts.map(\.jsonObject)) }
            if rollouts.isEmpty {
                return Console.shared.write(model.map { "model \($0) has had no rollout\n" } ?? "no rollouts yet: a deploy stage starts one\n")
            }
            var table = TextTable([.init("MODEL"), .init("CANDIDATE", .right), .init("STABLE", .right), .init("STRATEGY"), .init("STATE"),
                                   .init("STEP", .right), .init("WEIGHT", .right), .init("ANALYSIS"), .init("STARTED")])
            for r in rollouts {
                table.append([.init(r.model), .init("v\(r.candidateVersion)"), .init(r.stableVersion.map { "v\($0)" } ?? "-"), .init(r.strategy),
                              .init(r.state.name, color: Self.color(r.state)),
                              .init(r.step.map { "\($0 + 1)/\(r.plan.steps.count)" } ?? "-"), .init("\(r.weight)%"),
                              .init(r.analysis.map { "\($0.verdict) \($0.candidate.successes)/\($0.candidate.trials)" } ?? "-"),
                              .init(Formatting.timestamp(millis: r.startedTime))])
            }
            Console.shared.write(table.render { Console.shared.paint($0, $1) })
        }
    }

    static func color(_ state: RolloutState) -> Console.Color? {
        switch state {
        case .promoted: return .green
        case .aborted, .rolledBack: return .red
        case .paused: return .yellow
        case .pending, .progressing: return .cyan
        }
    }
}

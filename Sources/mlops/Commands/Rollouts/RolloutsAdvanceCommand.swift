import ArgumentParser
import Foundation
import MLOpsCore

struct RolloutsAdvanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "advance",
        abstract: "Move rollouts on now: end bakes whose time and samples are in, run due analyses, roll back what failed.",
        discussion: "The scheduler and `mlops serve` do this by themselves; this is the same step, run once.")

    @Argument(help: "Only this model (default: every model with a rollout).") var model: String?
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        try await reportingRolloutErrors {
            let controller = try options.openController()
            let models = try model.map { [$0] } ?? controller.rollouts.list().map(\.model)
            var made: [RolloutStore.Transition] = []
            for name in models { made += try controller.advance(name, now: controller.rollouts.store.nowMillis()) }
            if json { return printJSON(made.map { ["model": $0.rollout.model, "from": $0.from.name, "to": $0.rollout.state.name, "event": $0.event,
                                                   "weight": $0.rollout.weight, "detail": $0.detail as Any] as [String: Any] }) }
            if made.isEmpty { Console.shared.write("nothing to move on: every rollout is waiting or done\n") }
            printTransitions(made)
        }
        await options.deliverNotifications()
    }
}

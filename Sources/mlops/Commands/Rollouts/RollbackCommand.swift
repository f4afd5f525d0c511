import ArgumentParser
import Foundation
import MLOpsCore

struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Put the stable version back: stops a rollout in flight, or undoes the last promotion. Idempotent.")

    @Argument(help: "The model.") var model: String
    @Option(help: "Make this version champion instead of the rollout's stable version.") var to: Int?
    @Option(help: "Why; kept in the history and on the version's tags.") var reason = "rolled back by hand"
    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        try await reportingRolloutErrors {
            let controller = try options.openController()
            let made = try controller.rollback(model, to: to, reason: reason, now: controller.rollouts.store.nowMillis())
            if made.count == 1, made[0].from.name == "rolled_back", to == nil {
                Console.shared.write("\(model) v\(made[0].rollout.candidateVersion) was already rolled back; nothing changed\n")
            } else {
                printTransitions(made)
            }
        }
        await options.deliverNotifications()
    }
}

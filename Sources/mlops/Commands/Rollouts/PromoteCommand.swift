import ArgumentParser
import Foundation
import MLOpsCore

struct PromoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Release a paused rollout: past a `pause` step, or past an inconclusive analysis (a person's call).")

    @Argument(help: "The model whose rollout is paused.") var model: String
    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        try await reportingRolloutErrors {
            let controller = try options.openController()
            printTransitions(try controller.promote(model, now: controller.rollouts.store.nowMillis()))
        }
        await options.deliverNotifications()
    }
}

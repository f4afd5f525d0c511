import ArgumentParser
import Foundation
import MLOpsCore

struct AbortCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "abort", abstract: "Stop the rollout in flight and roll it back.")

    @Argument(help: "The model.") var model: String
    @Option(help: "Why; kept in the history and on the version's tags.") var reason = "aborted by hand"
    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        try await reportingRolloutErrors {
            let controller = try options.openController()
            printTransitions(try controller.abort(model, reason: reason, now: controller.rollouts.store.nowMillis()))
        }
        await options.deliverNotifications()
    }
}

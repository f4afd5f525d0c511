import Foundation
import MLOpsCore
import ServiceLifecycle

/// Delivers the outbox while the server runs: rollouts the server moves are announced from here,
/// and so is whatever an earlier process could not deliver. The spec is re-read each round, so a
/// new target needs no restart; a spec that does not load leaves the events waiting.
struct NotificationSender: Service {
    let store: Store
    let specPath: String
    let interval: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                if let spec = try? SpecParser.load(path: specPath) {
                    await Notifier(store: store, spec: spec).deliverPending(budget: .milliseconds(500))
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}

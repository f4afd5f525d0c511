import Foundation

/// Does nothing: a join point in a graph, or a placeholder while a pipeline takes shape.
struct NoopStage: Stage {
    func run(_ context: StageContext, started: @Sendable (AttemptHandle) -> Void) async -> StageTermination {
        .succeeded
    }
}

/// Waits; cancellation (a timeout, Ctrl-C) ends the wait at once.
struct SleepStage: Stage {
    var duration: SpecDuration

    init(with: [String: SpecValue]) {
        let text = with["duration"]?.description ?? "1s"
        duration = (try? SpecDuration.parse(text).get()) ?? .seconds(1)
    }

    func run(_ context: StageContext, started: @Sendable (AttemptHandle) -> Void) async -> StageTermination {
        do {
            try await Task.sleep(for: duration.duration)
            return .succeeded
        } catch {
            return .killed("stopped while sleeping")
        }
    }
}

/// Fails on purpose, to exercise failure paths (trigger rules, retries, notifications).
struct FailStage: Stage {
    var message: String

    init(with: [String: SpecValue]) { message = with["message"]?.description ?? "failed on purpose" }

    func run(_ context: StageContext, started: @Sendable (AttemptHandle) -> Void) async -> StageTermination {
        .failed(message, exitCode: nil)
    }
}

import ArgumentParser
import Foundation
import MLOpsCore

struct RolloutsShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "A model's latest rollout: state, weights, analysis, history.")

    @Argument(help: "The model.") var model: String
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        try await reportingRolloutErrors {
            let rollouts = RolloutStore(store: try options.openStore())
            guard let r = try rollouts.latest(model) else {
                let models = try options.openRegistry().models().map(\.name)
                throw CLIError.invalidInput("model \(model) has had no rollout" + (models.contains(model) ? "" : (Suggestion.hint(for: model, in: models).map { "; \($0)" } ?? "")))
            }
            let events = try rollouts.events(r.id)
            if json {
                var object = r.jsonObject
                object["history"] = events.map(\.jsonObject)
                return printJSON(object)
            }
            let c = Console.shared
            c.write("rollout \(r.id)  \(r.model) v\(r.candidateVersion) against \(r.stableVersion.map { "v\($0)" } ?? "no champion")  (\(r.strategy))\n")
            c.write("state     \(c.paint(r.state.name, RolloutsListCommand.color(r.state) ?? .bold))" + (r.reason.map { ": \(TextEscaping.terminal($0))" } ?? "") + "\n")
            c.write("weight    candidate \(r.weight)%, stable \(100 - r.weight)%\n")
            c.write("started   \(Formatting.timestamp(millis: r.startedTime))" + (r.jobRunID.map { " by job run \($0.prefix(8))" } ?? "") + "\n")
            if let until = r.previousUntil, let stable = r.stableVersion {
                c.write("previous  v\(stable) kept ready until \(Formatting.timestamp(millis: until)) (`mlops rollback \(r.model)` switches back at once)\n")
            }
            c.write("steps\n")
            for (i, step) in r.plan.steps.enumerated() {
                let marker = r.step == i ? "→" : (r.step.map { i < $0 } ?? (r.state == .promoted)) ? "✓" : " "
                c.write("  \(marker) \(i + 1). \(step.summary)\n")
            }
            if let a = r.analysis {
                c.write("analysis  \(a.verdict) at \(Formatting.timestamp(millis: a.time)): \(TextEscaping.terminal(a.reason))\n")
            }
            c.write("history\n")
            var table = TextTable([.init("TIME"), .init("EVENT"), .init("FROM"), .init("TO"), .init("WEIGHT", .right), .init("DETAIL")])
            for e in events {
                table.append([.init(Formatting.timestamp(millis: e.time)), .init(e.event), .init(e.from_state ?? "-"), .init(e.to_state),
                              .init("\(e.weight)%"), .init(e.detail ?? "")])
            }
            c.write(table.render { c.paint($0, $1) })
        }
    }
}

import ArgumentParser
import MLOpsCore

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show a job's stages in dependency layers (stages in one layer may run in parallel).")

    @Argument(help: "The job.")
    var job: String

    @Flag(help: "Print Graphviz source instead (pipe into `dot -Tsvg`).")
    var dot = false

    @Flag(help: "Print JSON.")
    var json = false

    @OptionGroup var options: WorkspaceOptions

    func run() throws {
        let spec = try options.loadSpec()
        guard let job = spec.job(named: job) else {
            let hint = Suggestion.hint(for: self.job, in: spec.jobs.map(\.name)).map { " (\($0))" } ?? ""
            printError("no job '\(self.job)' in \(spec.path)\(hint)")
            throw ExitCode(CLIError.invalidInputCode)
        }
        let graph = StageGraph(job: job)
        let layers = graph.layers()
        func summary(_ stage: StageSpec) -> String {
            switch stage.action {
            case let .builtin(name): return "uses \(name)"
            case let .command(command, shell):
                let lines = command.split(separator: "\n", omittingEmptySubsequences: true)
                var first = String(lines.first ?? "")
                if first.count > 60 { first = String(first.prefix(59)) + "…" } else if lines.count > 1 { first += " …" }
                return (shell ? "sh: " : "run: ") + first
            }
        }
        if dot {
            let labels = Dictionary(uniqueKeysWithValues: job.stages.map { ($0.name, summary($0)) })
            Console.shared.write(graph.dot(jobName: job.name, labels: labels))
            return
        }
        if json {
            printJSON(["job": job.name, "layers": layers, "stages": job.stages.map { stage in
                ["name": stage.name, "needs": stage.needs, "action": summary(stage), "retries": stage.retries,
                 "timeout": stage.timeout?.description as Any, "trigger_rule": stage.triggerRule.rawValue] as [String: Any]
            }])
            return
        }
        var table = TextTable([.init("LAYER", .right), .init("STAGE"), .init("NEEDS"), .init("DOES")])
        for (i, layer) in layers.enumerated() {
            for name in layer {
                let stage = job.stage(named: name)!
                var does = summary(stage)
                if stage.retries > 0 { does += "  (retries \(stage.retries))" }
                if let timeout = stage.timeout { does += "  (timeout \(timeout))" }
                if stage.triggerRule != .allSuccess { does += "  (\(stage.triggerRule.rawValue))" }
                table.append([.init(String(i)), .init(name), .init(stage.needs.isEmpty ? "-" : stage.needs.joined(separator: ", ")), .init(does)])
            }
        }
        let schedule = job.schedule.map { "  schedule \($0)\(job.timezone.map { " \($0)" } ?? "")" } ?? ""
        Console.shared.write("\(Console.shared.paint(job.name, .bold)): \(job.stages.count) stages in \(layers.count) layers\(schedule)\n")
        Console.shared.write(table.render { Console.shared.paint($0, $1) })
    }
}

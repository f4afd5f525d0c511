import ArgumentParser
import Foundation
import MLOpsCore

struct RunsShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a job run: each stage attempt with its status, exit code, params, metrics, tags, logged models, artifacts and logs.")

    @Argument(help: "A run id, or an unambiguous prefix of one.")
    var id: String

    @Flag(help: "Print JSON.")
    var json = false

    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        try await reportingErrors {
            let store = try options.openStore()
            let tracker = Tracker(store: store)
            try await OrphanReaper(store: store).reap()
            let run = try tracker.resolveJobRun(id)
            let children = try tracker.children(of: run.id)
            let c = Console.shared
            func details(_ r: RunRecord) throws -> [String: Any] {
                var object = RunJSON.object(r)
                object["params"] = try tracker.params(of: r.id)
                object["tags"] = try tracker.tags(of: r.id)
                object["metrics"] = Dictionary(try tracker.latestMetrics(of: r.id).map { ($0.key, $0.value.isNaN ? "NaN" as Any : $0.value as Any) }, uniquingKeysWith: { a, _ in a })
                if r.kind == .stage, let uri = r.artifactURI { object["artifacts"] = Self.artifacts(in: uri) }
                let models = try tracker.loggedModels(of: r.id)
                if !models.isEmpty {
                    object["logged_models"] = models.map { ["model_id": $0.id, "name": $0.name, "status": $0.status, "uri": $0.uri] }
                }
                if let logs = r.logPaths { object["logs"] = ["stdout": logs.stdout, "stderr": logs.stderr] }
                return object
            }
            if json {
                var object = try details(run)
                object["stages"] = try children.map(details)
                printJSON(object)
                return
            }
            let params = try tracker.params(of: run.id)
            let metrics = try tracker.latestMetrics(of: run.id)
            c.write("\(c.paint("run \(run.id)", .bold))  \(TextEscaping.terminal(run.job ?? run.name ?? ""))  \(c.paint(run.status.rawValue, Formatting.statusColor(run.status)))\(run.outcome.map { " (\($0.rawValue))" } ?? "")\n")
            var facts = ["trigger \(run.trigger?.rawValue ?? "-")", "started \(Formatting.timestamp(millis: run.startTime))",
                         "took \(Formatting.duration(millis: run.durationMillis))"]
            if let sha = run.specSHA256 { facts.append("spec \(sha.prefix(12))") }
            if let git = run.gitCommit { facts.append("git \(git.prefix(10))") }
            c.write(facts.joined(separator: " · ") + "\n")
            if let message = run.message { c.write("\(c.paint("message", .bold)): \(TextEscaping.terminal(message, keepingLineBreaks: true))\n") }
            if !params.isEmpty { c.write("\(c.paint("params", .bold)): \(Formatting.pairs(params))\n") }
            if !metrics.isEmpty { c.write("\(c.paint("metrics", .bold)): \(Formatting.metricPairs(metrics))\n") }
            guard !children.isEmpty else { return }
            c.write("\n")
            var table = TextTable([.init("STAGE"), .init("ATTEMPT", .right), .init("STATUS"), .init("OUTCOME"), .init("EXIT", .right),
                                   .init("DURATION", .right), .init("RUN"), .init("MESSAGE")])
            for child in children {
                table.append([.init(child.stage ?? "-"), .init(child.attempt.map { $0 == 0 ? "-" : String($0) } ?? "-"),
                              .init(child.status.rawValue, color: Formatting.statusColor(child.status)), .init(child.outcome?.rawValue ?? "-"),
                              .init(child.exitCode.map(String.init) ?? "-"), .init(Formatting.duration(millis: child.durationMillis)),
                              .init(child.shortID), .init(child.message ?? "")])
            }
            c.write(table.render { c.paint($0, $1) })
            for child in children where child.outcome != .skipped {
                c.write("\n\(c.paint(TextEscaping.terminal(child.stage ?? "-"), .bold)) attempt \(child.attempt ?? 0), run \(child.shortID)\n")
                let childParams = try tracker.params(of: child.id)
                let childMetrics = try tracker.latestMetrics(of: child.id)
                let tags = try tracker.tags(of: child.id).filter { !$0.key.hasPrefix("mlflow.") && !["mlops.job", "mlops.stage", "mlops.attempt", "mlops.trigger"].contains($0.key) }
                if !childParams.isEmpty { c.write("  params:    \(Formatting.pairs(childParams))\n") }
                if !childMetrics.isEmpty { c.write("  metrics:   \(Formatting.metricPairs(childMetrics))\n") }
                if !tags.isEmpty { c.write("  tags:      \(Formatting.pairs(tags))\n") }
                let models = try tracker.loggedModels(of: child.id)
                if !models.isEmpty { c.write("  models:    \(TextEscaping.terminal(models.map { "\($0.name) \($0.uri) (\($0.status))" }.joined(separator: ", ")))\n") }
                if let uri = child.artifactURI {
                    let files = Self.artifacts(in: uri)
                    c.write("  artifacts: \(uri)\(files.isEmpty ? "" : " (\(files.joined(separator: ", ")))")\n")
                    if let logs = child.logPaths { c.write("  logs:      \(logs.stdout), \(logs.stderr)\n") }
                }
            }
        }
    }

    static func artifacts(in folder: String) -> [String] {
        FolderFiles.list(folder) ?? []
    }
}

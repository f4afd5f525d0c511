import ArgumentParser
import Foundation
import MLOpsCore

struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Each monitor's baseline, current hit rate with its interval, sample count and verdict.",
        discussion: "Shows the last evaluation; --evaluate evaluates now first (what the scheduler does each tick).")

    @Argument(help: "Only this monitor.") var name: String?
    @Flag(help: "Evaluate now, updating the monitor's state, before showing it.") var evaluate = false
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        let spec = try options.loadSpec()
        try await reportingErrors {
            var monitors = spec.monitors.filter { $0.metric == "hit_rate" }
            if let name {
                monitors = monitors.filter { $0.name == name }
                guard !monitors.isEmpty else {
                    throw CLIError.invalidInput("no hit-rate monitor '\(name)' in \(options.resolved.specPath)"
                        + (Suggestion.hint(for: name, in: spec.monitors.map(\.name)).map { "; \($0)" } ?? ""))
                }
            }
            let store = try options.openStore()
            if evaluate {
                for monitor in monitors { try HitRateMonitor(store: store, spec: monitor).evaluate(now: Store.nowMillis()) }
            }
            let last = try HitRateMonitor.lastEvaluations(store)
            let rows = monitors.map { ($0, last[$0.name]) }
            if json {
                return printJSON(rows.map { monitor, e -> [String: Any] in
                    var object: [String: Any] = ["monitor": monitor.name, "model": monitor.model, "metric": monitor.metric]
                    if let e {
                        object["evaluated_time"] = e.time
                        object["version"] = e.version
                        object["trials"] = e.trials
                        object["successes"] = e.successes
                        object["rate"] = e.rate
                        object["interval"] = [e.lower, e.upper].compactMap { $0 }
                        object["baseline"] = e.baseline
                        object["baseline_source"] = e.baselineSource
                        object["verdict"] = e.verdict.rawValue
                        object["breaches"] = e.breaches
                        object["should_trigger"] = e.shouldTrigger
                        object["reason"] = e.reason
                    }
                    return object
                })
            }
            if rows.isEmpty { return Console.shared.write("no hit-rate monitors in \(options.resolved.specPath)\n") }
            let shown = { (x: Double?) in x.map { String(format: "%.4f", $0) } ?? "-" }
            var table = TextTable([.init("MONITOR"), .init("MODEL"), .init("VERSION", .right), .init("HIT RATE", .right), .init("INTERVAL"),
                                   .init("N", .right), .init("BASELINE", .right), .init("VERDICT"), .init("EVALUATED")])
            for (monitor, e) in rows {
                let color: Console.Color? = switch e?.verdict {
                case .dropped?: .red
                case .fine?: .green
                default: .yellow
                }
                table.append([.init(monitor.name), .init(monitor.model), .init(e?.version.map { "v\($0)" } ?? "-"), .init(shown(e?.rate)),
                              .init(e?.lower.map { "\(shown($0))–\(shown(e?.upper))" } ?? "-"), .init(e.map { String($0.trials) } ?? "-"),
                              .init(shown(e?.baseline)), .init(e?.verdict.rawValue ?? "not evaluated", color: color),
                              .init(e.map { Formatting.timestamp(millis: $0.time) } ?? "-")])
            }
            Console.shared.write(table.render { Console.shared.paint($0, $1) })
            for (monitor, e) in rows { if let e { Console.shared.write("\(monitor.name): \(e.reason)\n") } }
        }
        await options.deliverNotifications()
    }
}

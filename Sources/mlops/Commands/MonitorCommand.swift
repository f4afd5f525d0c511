import ArgumentParser
import Foundation
import MLOpsCore

struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Each monitor's baseline, current hit rate with its interval, sample count, verdict, drift and last trigger.",
        discussion: """
            Shows the last evaluation; --evaluate evaluates now first, as the scheduler does each tick, and \
            says whether a retrain is due. The scheduler (`mlops scheduler`) is what starts it.
            """)

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
            var decisions: [String: RetrainPolicy.Decision] = [:]
            if evaluate {
                let results = try MonitorCycle(store: store, spec: spec).run(now: store.nowMillis(), force: true,
                                                                              only: Set(monitors.map(\.name)), trigger: .manual)
                for result in results { decisions[result.monitor.name] = result.decision }
            }
            let last = try HitRateMonitor.lastEvaluations(store)
            let triggers = try MonitorCycle.lastTriggers(store)
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
                        object["method"] = e.method ?? "wilson"
                        if let cusum = e.cusum { object["cusum"] = cusum; object["cusum_threshold"] = e.cusumThreshold as Any }
                        if let drift = e.drift {
                            object["drift"] = ["period": drift.period as Any, "share": drift.share, "drifted": drift.drifted,
                                               "features": drift.features.map { ["feature": $0.name, "test": $0.test, "statistic": $0.statistic,
                                                                                 "p_value": $0.pValue, "psi": $0.psi, "drifted": $0.drifted] }]
                        }
                    }
                    if let t = triggers[monitor.name] {
                        object["last_trigger"] = ["time": t.time as Any, "run_id": t.runID as Any, "reason": t.reason as Any, "decision": t.decision as Any]
                    }
                    if let d = decisions[monitor.name] { object["retrain"] = ["start": d.start, "reason": d.reason] }
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
            for (monitor, e) in rows {
                guard let e else { continue }
                Console.shared.write("\n\(Console.shared.paint(monitor.name, .bold)): \(e.reason)\n")
                if let drift = e.drift {
                    Console.shared.write("  drift of the batch of week \(drift.period.map(String.init) ?? "?") against v\(e.version ?? 0)'s training data: "
                        + "\(drift.features.filter(\.drifted).count) of \(drift.features.count) features drifted\n")
                    var features = TextTable([.init("FEATURE"), .init("TEST"), .init("STATISTIC", .right), .init("P", .right),
                                              .init("PSI", .right), .init("DRIFTED")])
                    for f in drift.features {
                        features.append([.init("  " + f.name), .init(f.test), .init(String(format: "%.4f", f.statistic)),
                                         .init(String(format: "%.2g", f.pValue)), .init(String(format: "%.4f", f.psi)),
                                         .init(f.drifted ? "yes" : "no", color: f.drifted ? .red : nil)])
                    }
                    Console.shared.write(features.render { Console.shared.paint($0, $1) })
                }
                if let t = triggers[monitor.name], t.time != nil || t.decision != nil {
                    let when = t.time.map { Formatting.timestamp(millis: $0) } ?? "never"
                    Console.shared.write("  last trigger: \(when)\(t.runID.map { " → run \($0.prefix(8))" } ?? "")"
                        + "\(t.decision.map { "; last decision: \($0)" } ?? "")\n")
                }
                if let d = decisions[monitor.name] {
                    Console.shared.write("  retrain \(d.start ? "due: the scheduler starts \(monitor.onDropRun ?? "") (or: mlops run \(monitor.onDropRun ?? "") --trigger monitor)" : "not started: \(d.reason)")\n")
                }
            }
        }
        await options.deliverNotifications()
    }
}

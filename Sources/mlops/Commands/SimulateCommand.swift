import ArgumentParser
import Foundation
import MLOpsCore

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Replay weeks of the real scheduler, stages, monitors and rollouts on a virtual clock.",
        discussion: """
            The job runs on its schedule against the synthetic cohort in a fresh workspace (a new temporary \\
            folder unless --workspace names an empty one), which is kept: `mlops runs -C DIR` shows the \\
            history. Prints a week-by-week table and writes simulation.svg (hit rate, interval, baseline, \\
            events), simulation.json and the daemon's log (simulation.log) into it. Same seed, same table.
            """)

    @Argument(help: "The job to simulate (default: the first with a synthetic-cohort stage).") var job: String?
    @Option(help: "How many weeks.") var weeks = 52
    @Option(help: "The synthetic world's seed.") var seed = 7
    @Option(help: "Customers a week (default: the job's).") var customers: Int?
    @Option(help: "The week the concept and behaviour drift; 0 for none.") var driftWeek = 20
    @Option(help: "The week someone retrains by hand on a corrupted label feed.") var badCandidateWeek: Int?
    @Option(name: [.customShort("C"), .long], help: "The workspace to simulate in: new or empty (default: a new temporary folder).") var workspace: String?
    @Option(name: [.customShort("f"), .long], help: "The spec (default: ./jobs.yaml).") var file: String?
    @Flag(help: "Print the weeks as JSON.") var json = false

    func validate() throws {
        guard (1...520).contains(weeks) else { throw ValidationError("--weeks is 1 to 520") }
        if let badCandidateWeek, !(1..<weeks).contains(badCandidateWeek) { throw ValidationError("--bad-candidate-week is 1 to \(weeks - 1)") }
        if driftWeek < 0 { throw ValidationError("--drift-week is 0 (none) or a week") }
    }

    func run() async throws {
        let source = WorkspaceOptions.from(workspace: nil, file: file)
        let spec = try source.loadSpec()
        let root = try await reportingErrors { () -> String in
            let fm = FileManager.default
            if let workspace {
                if fm.fileExists(atPath: workspace), let items = try? fm.contentsOfDirectory(atPath: workspace), !items.isEmpty {
                    throw CLIError.invalidInput("--workspace \(workspace) is not empty: a simulation starts from nothing; name a new folder")
                }
                try fm.createDirectory(atPath: workspace, withIntermediateDirectories: true)
                return workspace
            }
            let dir = NSTemporaryDirectory() + "mlops-simulate-" + String(UUID().uuidString.prefix(8)).lowercased()
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            return dir
        }
        let text = try String(contentsOfFile: spec.path, encoding: .utf8)
        try text.write(toFile: root + "/jobs.yaml", atomically: true, encoding: .utf8)
        let space = Workspace(root: root)
        let copied = try SpecParser.load(path: space.specPath)
        let name = job ?? copied.jobs.first { $0.stages.contains { $0.action == .builtin("synthetic-cohort") } }?.name ?? copied.jobs.first?.name ?? ""
        var settings = Simulation.Settings(job: name)
        settings.weeks = weeks
        settings.seed = seed
        settings.customers = customers
        settings.driftWeek = driftWeek > 0 ? driftWeek : nil
        settings.badCandidateWeek = badCandidateWeek
        let logPath = root + "/simulation.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let logFile = FileHandle(forWritingAtPath: logPath)
        let clock = VirtualClock(now: settings.startMillis)
        let log = DaemonLog(clock: clock) { line in logFile?.write(Data(line.utf8)) }
        let result = try await reportingErrors { () -> [SimulationWeek] in
            let store = try Store(path: space.storePath, clock: clock)
            let simulation = try Simulation(workspace: space, spec: copied, store: store, clock: clock, settings: settings, log: log)
            let started = ContinuousClock.now
            let tty = (isatty(2) == 1)
            return try await simulation.run { week in
                if tty {
                    Console.shared.write("\r\u{1B}[Ksimulating week \(week.week + 1)/\(weeks) (\(ContinuousClock.now - started))", to: .stderr)
                }
            }
        }
        try? logFile?.close()
        if (isatty(2) == 1) { Console.shared.write("\r\u{1B}[K", to: .stderr) }
        let chart = SimulationChart.svg(result, driftWeek: settings.driftWeek, badCandidateWeek: badCandidateWeek,
                                        title: "\(name): simulated \(weeks) weeks, seed \(seed)")
        try chart.write(toFile: root + "/simulation.svg", atomically: true, encoding: .utf8)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data = try encoder.encode(result)
        try data.write(to: URL(fileURLWithPath: root + "/simulation.json"))
        if json {
            Console.shared.write(String(decoding: data, as: UTF8.self) + "\n")
            return
        }
        Console.shared.write(Self.table(result))
        Console.shared.write("\nworkspace: \(root)\n  chart: \(root)/simulation.svg\n  history: mlops runs -C \(root)\n")
    }

    static func table(_ weeks: [SimulationWeek]) -> String {
        var table = TextTable([.init("WEEK", .right), .init("DATE"), .init("CHAMPION"), .init("CANDIDATE"), .init("HIT RATE", .right),
                               .init("INTERVAL"), .init("N", .right), .init("BASELINE", .right), .init("DRIFT", .right), .init("EVENTS")])
        let f = { (x: Double?) in x.map { String(format: "%.3f", $0) } ?? "-" }
        for w in weeks {
            let color: Console.Color? = w.events.contains { $0.hasPrefix("rollback") || $0.hasPrefix("gate") } ? .red
                : w.events.contains { $0.hasPrefix("promote") } ? .green : w.events.contains("retrain") ? .yellow : nil
            table.append([.init(String(w.week)), .init(w.date), .init(w.champion.map { "v\($0)" } ?? "-"),
                          .init(w.candidate.map { "v\($0) @\(w.weight ?? 0)%" } ?? "-"), .init(f(w.hitRate)),
                          .init(w.lower.map { "\(f($0))–\(f(w.upper))" } ?? "-"), .init(String(w.outcomes)), .init(f(w.baseline)),
                          .init(w.driftShare.map { String(format: "%.0f%%", $0 * 100) } ?? "-"),
                          .init(w.events.joined(separator: ", "), color: color)])
        }
        return table.render { Console.shared.paint($0, $1) }
    }
}

extension WorkspaceOptions {
    static func from(workspace: String?, file: String?) -> WorkspaceOptions {
        var options = WorkspaceOptions()
        options.workspace = workspace
        options.file = file
        options.tracking = nil
        return options
    }
}

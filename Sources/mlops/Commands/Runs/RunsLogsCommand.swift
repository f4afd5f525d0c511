import ArgumentParser
import Foundation
import MLOpsCore

struct RunsLogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print the stages' logs of a run, each line prefixed with its stage; --follow waits for more.")

    @Argument(help: "A run id, or an unambiguous prefix of one.")
    var id: String

    @Option(help: "Only this stage.")
    var stage: String?

    @Flag(help: "Keep printing new output until the run ends.")
    var follow = false

    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        try await reportingErrors {
            let store = try options.openStore()
            let tracker = Tracker(store: store)
            var run = try tracker.resolveJobRun(id)
            var offsets: [String: UInt64] = [:]
            var known = Set<String>()
            while true {
                let children = try tracker.children(of: run.id).filter { stage == nil || $0.stage == stage }
                if let stage, children.isEmpty, run.status.isTerminal {
                    throw CLIError.invalidInput("run \(run.shortID) has no stage '\(stage)'")
                }
                let width = children.compactMap { $0.stage?.count }.max() ?? 0
                for child in children {
                    guard let logs = child.logPaths else { continue }
                    let label = (child.stage ?? "?").padding(toLength: width, withPad: " ", startingAt: 0)
                    let prefix = Console.shared.paint("\(label) |", .cyan) + " "
                    if known.insert(child.id).inserted, (child.attempt ?? 1) > 1 {
                        Console.shared.write(prefix + Console.shared.paint("--- attempt \(child.attempt ?? 1) ---", .gray) + "\n")
                    }
                    for (path, stream) in [(logs.stdout, Console.Stream.stdout), (logs.stderr, .stderr)] {
                        let key = path
                        guard let handle = FileHandle(forReadingAtPath: path) else { continue }
                        defer { try? handle.close() }
                        try? handle.seek(toOffset: offsets[key] ?? 0)
                        let data = handle.readDataToEndOfFile()
                        guard !data.isEmpty else { continue }
                        // Print whole lines only; a partial last line waits for its end while following.
                        var text = String(decoding: data, as: UTF8.self)
                        var consumed = UInt64(data.count)
                        if follow, !child.status.isTerminal, let lastNewline = text.lastIndex(of: "\n") {
                            let tail = text[text.index(after: lastNewline)...]
                            consumed -= UInt64(tail.utf8.count)
                            text = String(text[...lastNewline])
                        } else if follow, !child.status.isTerminal {
                            continue
                        }
                        offsets[key] = (offsets[key] ?? 0) + consumed
                        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0) {
                            Console.shared.write(prefix + line + "\n", to: stream)
                        }
                    }
                }
                guard follow, !run.status.isTerminal else { return }
                try await Task.sleep(for: .milliseconds(200))
                if let fresh = try tracker.run(run.id) {
                    let wasRunning = !run.status.isTerminal
                    run = fresh
                    // One more pass after the run ends, to print what its last moments wrote.
                    if wasRunning && run.status.isTerminal { continue }
                }
            }
        }
    }
}

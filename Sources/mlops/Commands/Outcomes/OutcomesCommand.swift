import ArgumentParser
import Foundation
import MLOpsCore

struct OutcomesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outcomes",
        abstract: "Outcomes that arrived for earlier predictions: what rollouts and monitors judge.",
        subcommands: [OutcomesImportCommand.self])
}

struct OutcomesImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import outcomes from a CSV: prediction_id or entity_id (with model, period), outcome 0/1, time.",
        discussion: """
            `time` is epoch milliseconds or an ISO 8601 date or date-time (default: now); an outcome counts \
            in analyses once its time has passed. Every row is checked first: one bad row and nothing is \
            imported, and each bad row is reported with its line. A later outcome for a prediction replaces \
            the earlier one.
            """)

    @Argument(help: "The CSV file, or - for standard input.") var path: String
    @Option(help: "The model an entity_id row refers to, when the file has no `model` column.") var model: String?
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        try await reportingErrors {
            let data = try readInput(path)
            let summary: OutcomeImport.Summary
            do {
                summary = try OutcomeImport.run(data, source: path == "-" ? "stdin" : path, store: try options.openStore(), model: model)
            } catch let failure as OutcomeImport.Failure {
                throw CLIError.invalidInput("\(path):\n" + failure.description)
            }
            if json {
                return printJSON(["imported": summary.rows, "positives": summary.positives, "by_version": summary.byVersion] as [String: Any])
            }
            let versions = summary.byVersion.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            Console.shared.write("imported \(summary.rows) outcomes (\(summary.positives) positive)" + (versions.isEmpty ? "" : ": \(versions)") + "\n")
        }
    }
}

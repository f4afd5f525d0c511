import ArgumentParser
import Foundation
import MLOpsCore
import MLOpsLearn

struct DriftCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Has CURRENT drifted from REFERENCE? Per column: the test, statistic, p-value, PSI, threshold and verdict.",
        discussion: """
            Numbers: two-sample Kolmogorov–Smirnov and PSI on the reference's deciles; categories: chi-square \
            and PSI. The verdict follows the p-value when both tables have at most 1000 rows, PSI above \
            (--by to choose). Exit status 0 whatever the verdict; 2 for a file that cannot be read.
            """)

    @Option(help: "The reference table (CSV), e.g. the training data.") var reference: String
    @Option(help: "The current table (CSV).") var current: String
    @Option(help: "Columns to leave out, comma-separated (ids, labels).") var exclude = ""
    @Option(help: "Significance level for the tests.") var alpha = 0.05
    @Option(help: "PSI at or above which a column has drifted.") var psi = 0.2
    @Option(help: "What decides: auto, p or psi.") var by: DriftReport.Criterion = .auto
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await reportingErrors {
            let a = try Self.table(reference), b = try Self.table(current)
            let excluded = Set(exclude.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            let shared = a.names.filter { b.column($0) != nil && !excluded.contains($0) }
            let onlyOne = Set(a.names).symmetricDifference(b.names).subtracting(excluded).sorted()
            let report = DriftReport(reference: a, current: b, columns: shared, alpha: alpha, psiThreshold: psi, by: by)
            let typeMismatch = shared.filter { name in !report.columns.contains { $0.name == name } }
            if json {
                return printJSON([
                    "columns": report.columns.map { c -> [String: Any] in
                        ["column": c.name, "kind": c.kind, "test": c.test, "statistic": c.statistic, "p_value": c.pValue, "psi": c.psi,
                         "decided_by": c.decidedBy, "drifted": c.drifted]
                    },
                    "drifted": report.drifted, "share_drifted": report.share, "alpha": alpha, "psi_threshold": psi,
                    "skipped": onlyOne + typeMismatch,
                ] as [String: Any])
            }
            var table = TextTable([.init("COLUMN"), .init("KIND"), .init("TEST"), .init("STATISTIC", .right), .init("P-VALUE", .right),
                                   .init("PSI", .right), .init("DECIDED BY"), .init("VERDICT")])
            for c in report.columns {
                table.append([.init(c.name), .init(c.kind), .init(c.test), .init(String(format: "%.4f", c.statistic)),
                              .init(c.pValue < 1e-4 ? String(format: "%.1e", c.pValue) : String(format: "%.4f", c.pValue)),
                              .init(String(format: "%.4f", c.psi)), .init(c.decidedBy),
                              .init(c.drifted ? "drifted" : "stable", color: c.drifted ? .red : .green)])
            }
            Console.shared.write(table.render { Console.shared.paint($0, $1) })
            Console.shared.write("\(report.drifted) of \(report.columns.count) columns drifted (\(Int((report.share * 100).rounded()))%)\n")
            if !onlyOne.isEmpty { Console.shared.write("not compared (in one table only): \(onlyOne.joined(separator: ", "))\n") }
            if !typeMismatch.isEmpty { Console.shared.write("not compared (a number in one table, a category in the other): \(typeMismatch.joined(separator: ", "))\n") }
        }
    }

    static func table(_ path: String) throws -> MLOpsLearn.Table {
        let data = try readInput(path)
        switch Result(catching: { () throws(TableCSV.ParseError) -> MLOpsLearn.Table in try TableCSV.read(data) }) {
        case let .success(table): return table
        case let .failure(error): throw CLIError.invalidInput("\(path):\(error.line): \(error.message)")
        }
    }
}

extension DriftReport.Criterion: ExpressibleByArgument {}

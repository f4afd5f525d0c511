import Foundation
import MLOpsLearn

/// `uses: csv`: a user's own data. `path` (labelled history, with the label and optionally a
/// `week` column) becomes `history.csv`; `current` (rows to score) becomes `current.csv`. Types are
/// inferred or declared in `types:`; a ragged row, a non-number in a numeric column or a missing
/// label fails the stage with the file, line and column.
struct CSVIngestStage: Stage {
    static let keys = ["path", "current", "label", "types"]

    var with: [String: SpecValue]

    func run(_ context: StageContext, started: @Sendable (AttemptHandle) -> Void) async -> StageTermination {
        StageFiles.run {
            let w = StageSettings(stage: context.stage, with: with)
            guard let path = with["path"]?.description, !path.isEmpty else {
                throw StageSettings.Failure(message: "\(context.stage): `path` names the CSV file to read")
            }
            let label = w.string("label", "bought")
            var types: [String: TableCSV.ColumnType] = [:]
            if case let .map(entries)? = with["types"] {
                for (column, value) in entries {
                    guard let type = TableCSV.ColumnType(rawValue: value.description) else {
                        throw StageSettings.Failure(message: "\(context.stage): type of '\(column)' is '\(value)'; use numeric or categorical")
                    }
                    types[column] = type
                }
            }
            types[label] = .numeric
            func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : "\(context.workspace.root)/\(p)" }
            let history = try StageFiles.readTable(path: resolve(path), required: [label], types: types)
            if let bad = history.numeric(label)?.firstIndex(where: { $0 != 0 && $0 != 1 }) {
                throw StageSettings.Failure(message: "\(resolve(path)): line \(bad + 2), column '\(label)': the label must be 0 or 1")
            }
            try StageFiles.write(TableCSV.write(history), to: "history.csv", in: context)
            var metrics = ["history_rows": Double(history.rowCount)]
            if let current = with["current"]?.description {
                var currentTypes = types
                currentTypes[label] = nil
                let table = try StageFiles.readTable(path: resolve(current), types: currentTypes)
                try StageFiles.write(TableCSV.write(table), to: "current.csv", in: context)
                metrics["current_rows"] = Double(table.rowCount)
            }
            try StageFiles.report(metrics: metrics, in: context)
        }
    }
}

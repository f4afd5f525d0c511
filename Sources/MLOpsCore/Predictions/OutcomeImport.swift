import Foundation
import MLOpsLearn

/// `mlops outcomes import`: labels that arrived for earlier predictions, from a CSV with a
/// `prediction_id` or an `entity_id` (optionally `model` and `period`) column, an `outcome` (0/1,
/// true/false) and a `time` (epoch milliseconds, or an ISO 8601 date or date-time). Every row is
/// checked and matched to its prediction first; one bad row and nothing is imported, and each bad
/// row is reported with its line.
public enum OutcomeImport {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var problems: [(line: Int, message: String)]
        public var description: String {
            let shown = problems.prefix(20).map { "line \($0.line): \($0.message)" }
            let more = problems.count > 20 ? ["… and \(problems.count - 20) more"] : []
            return (shown + more).joined(separator: "\n") + "\nnothing was imported; fix these rows and import the file again"
        }
    }

    public struct Summary: Sendable, Hashable {
        public var rows: Int
        /// Outcomes per `model/version`.
        public var byVersion: [String: Int]
        public var positives: Int
    }

    public static func run(_ data: Data, source: String, store: Store, model defaultModel: String? = nil,
                           now: Int64? = nil) throws -> Summary {
        let now = now ?? store.nowMillis()
        let columns = ["prediction_id", "entity_id", "model", "period", "outcome", "time"]
        // Every known column is read as text (ids stay ids, "true" stays valid); only those the
        // header has may be declared.
        let header = String(decoding: data.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
            .split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \"\r")) }
        let types = Dictionary(uniqueKeysWithValues: columns.filter(header.contains).map { ($0, TableCSV.ColumnType.categorical) })
        let table: MLOpsLearn.Table
        switch Result(catching: { () throws(TableCSV.ParseError) -> MLOpsLearn.Table in try TableCSV.read(data, types: types) }) {
        case let .success(read): table = read
        case let .failure(error): throw Failure(problems: [(error.line, "\(source): \(error.message)")])
        }
        let text = { (name: String) in table.categorical(name) }
        guard let outcomes = text("outcome") else { throw Failure(problems: [(1, "\(source) has no `outcome` column (0/1)")]) }
        let ids = text("prediction_id"), entities = text("entity_id")
        guard ids != nil || entities != nil else {
            throw Failure(problems: [(1, "\(source) needs a `prediction_id` or an `entity_id` column to match outcomes to predictions")])
        }
        let models = text("model"), periods = text("period"), times = text("time")
        var problems: [(Int, String)] = []
        var rows: [(predictionID: Int64, label: Bool, time: Int64)] = []
        var timeParser = TimeParser()
        try store.read { tx in
            let matcher = try PredictionMatcher(tx)
            for r in 0..<table.rowCount {
                let line = r + 2
                let label: Bool
                switch outcomes[r].lowercased() {
                case "1", "true": label = true
                case "0", "false": label = false
                default:
                    problems.append((line, "outcome '\(outcomes[r])' is not 0/1 or true/false"))
                    continue
                }
                var time = now
                if let times, !times[r].isEmpty {
                    guard let parsed = timeParser.parse(times[r]) else {
                        problems.append((line, "time '\(times[r])' is neither epoch milliseconds nor an ISO 8601 date"))
                        continue
                    }
                    time = parsed
                }
                let found: Int64?
                if let ids, !ids[r].isEmpty {
                    guard let id = Int64(ids[r]) else { problems.append((line, "prediction_id '\(ids[r])' is not a number")); continue }
                    found = try matcher.prediction(id: id)
                    if found == nil { problems.append((line, "no prediction \(id)")); continue }
                } else if let entities, !entities[r].isEmpty {
                    let model = models.map { $0[r] }.flatMap { $0.isEmpty ? nil : $0 } ?? defaultModel
                    var period: Int?
                    if let periods, !periods[r].isEmpty {
                        guard let p = Int(periods[r]) else { problems.append((line, "period '\(periods[r])' is not a whole number")); continue }
                        period = p
                    }
                    found = try matcher.prediction(entity: entities[r], model: model, period: period)
                    if found == nil {
                        problems.append((line, "no prediction for entity '\(entities[r])'" + (model.map { " of model \($0)" } ?? "")
                            + (period.map { " in period \($0)" } ?? "")))
                        continue
                    }
                } else {
                    problems.append((line, "neither prediction_id nor entity_id is set"))
                    continue
                }
                guard let found else { continue }
                rows.append((found, label, time))
            }
        }
        if !problems.isEmpty { throw Failure(problems: problems) }
        return try store.write { tx in
            for row in rows { try PredictionLog.saveOutcome(tx, predictionID: row.predictionID, label: row.label, observedTime: row.time, now: now) }
            try AuditLog.record(tx, entityType: "outcomes", entityID: source, action: "import", to: "\(rows.count) rows", time: now)
            return Summary(rows: rows.count, byVersion: try PredictionLog.outcomesRecorded(tx, at: now), positives: rows.filter(\.label).count)
        }
    }

    /// Epoch milliseconds, `2026-11-23`, or `2026-11-23T06:00:00Z` (any ISO 8601 offset). The
    /// formatters are made once and each distinct text parsed once: a file of 50,000 outcomes
    /// holds a few dates, and making a formatter per row took 11 s of a 12 s import.
    struct TimeParser {
        private let full = ISO8601DateFormatter()
        private let day: ISO8601DateFormatter = {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withFullDate]
            return formatter
        }()
        private var seen: [String: Int64?] = [:]

        mutating func parse(_ text: String) -> Int64? {
            if let millis = Int64(text) { return millis }
            if let known = seen[text] { return known }
            let date = full.date(from: text) ?? day.date(from: text)
            let millis = date.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
            seen[text] = millis
            return millis
        }
    }
}

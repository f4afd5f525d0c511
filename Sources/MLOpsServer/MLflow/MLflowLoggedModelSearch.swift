import Foundation
import GRDB
import MLOpsCore

/// `logged-models/search`: MLflow's filter grammar over a logged model's attributes, params,
/// tags and metrics, and its `order_by` objects. A metric compares and sorts by its latest point
/// (highest step, then latest time), on the requested datasets when `datasets` names any.
extension MLflowLoggedModels {
    static let vocabulary = RunFilter.Vocabulary(
        attributes: ["name", "model_id", "model_type", "status", "source_run_id",
                     "creation_timestamp", "creation_time", "last_updated_timestamp", "last_updated_time"],
        numericAttributes: ["creation_timestamp", "creation_time", "last_updated_timestamp", "last_updated_time"],
        bareKeysAreAttributes: true)

    static func column(_ attribute: String) -> String {
        switch attribute {
        case "creation_timestamp", "creation_time": "m.creation_time"
        case "last_updated_timestamp", "last_updated_time": "m.last_update_time"
        default: "m.\(attribute)"
        }
    }

    /// The latest value of one metric of the model, optionally on the given datasets.
    static func latestMetricSQL(datasets: [(name: String, digest: String?)], args: inout [any DatabaseValueConvertible]) -> String {
        var datasetClause = ""
        if !datasets.isEmpty {
            datasetClause = " AND (" + datasets.map { dataset in
                args.append(dataset.name)
                if let digest = dataset.digest { args.append(digest); return "(x.dataset_name = ? AND x.dataset_digest = ?)" }
                return "x.dataset_name = ?"
            }.joined(separator: " OR ") + ")"
        }
        return "(SELECT CASE WHEN x.is_nan THEN NULL ELSE x.value END FROM logged_model_metrics x WHERE x.model_id = m.model_id AND x.key = ?\(datasetClause) ORDER BY x.step DESC, x.timestamp DESC LIMIT 1)"
    }

    func search(_ f: MLflowFields) throws -> [String: Any] {
        let experiments = try f.strings("experiment_ids")
        guard !experiments.isEmpty else { throw MLflowError.missing("experiment_ids") }
        let experimentIDs: [Int64] = try experiments.map { text in
            guard let id = Int64(text) else { throw MLflowError.invalid("experiment_ids", text, "experiment ids are whole numbers") }
            return id
        }
        let datasets: [(name: String, digest: String?)] = try f.objects("datasets").enumerated().map { i, item in
            (try item.string("dataset_name").flatMap { $0.isEmpty ? nil : $0 } ?? { throw MLflowError.missing("datasets[\(i)].dataset_name") }(),
             try item.string("dataset_digest").flatMap { $0.isEmpty ? nil : $0 })
        }
        var clauses = ["m.lifecycle_stage = 'active'", "m.experiment_id IN (\(experimentIDs.map { _ in "?" }.joined(separator: ",")))"]
        var args: [any DatabaseValueConvertible] = experimentIDs
        if let filter = try MLflowFilterSQL.parse(f.string("filter"), Self.vocabulary) {
            for var c in filter.comparisons {
                switch c.entity {
                case .attribute:
                    if c.key == "status", case let .string(s) = c.value, !s.hasPrefix("LOGGED_MODEL_") { c.value = .string("LOGGED_MODEL_" + s) }
                    clauses.append(MLflowFilterSQL.compare(c, column: Self.column(c.key), args: &args))
                case .metric:
                    args.append(c.key)
                    let latest = Self.latestMetricSQL(datasets: datasets, args: &args)
                    clauses.append(MLflowFilterSQL.compare(c, column: latest, args: &args))
                case .param:
                    clauses.append(MLflowFilterSQL.keyValue(c, table: "logged_model_params", match: "t.model_id = m.model_id", args: &args))
                case .tag:
                    clauses.append(MLflowFilterSQL.keyValue(c, table: "logged_model_tags", match: "t.model_id = m.model_id", args: &args))
                }
            }
        }
        var order: [String] = []
        for (i, term) in try f.objects("order_by").enumerated() {
            let field = try term.string("field_name") ?? ""
            let direction = (try term.bool("ascending") ?? true) ? "ASC" : "DESC"
            if field.hasPrefix("metrics.") {
                var metricArgs: [any DatabaseValueConvertible] = []
                var on = datasets
                if let name = try term.string("dataset_name"), !name.isEmpty { on = [(name, try term.string("dataset_digest").flatMap { $0.isEmpty ? nil : $0 })] }
                order.append("\(Self.latestMetricSQL(datasets: on, args: &metricArgs)) \(direction) NULLS LAST")
                args += [String(field.dropFirst("metrics.".count))] + metricArgs
            } else {
                let key = field.hasPrefix("attributes.") ? String(field.dropFirst("attributes.".count)) : field
                guard Self.vocabulary.attributes.contains(key) else {
                    throw MLflowError.invalid("order_by[\(i)].field_name", field,
                                              "order by metrics.KEY or one of \(Self.vocabulary.attributes.joined(separator: ", "))")
                }
                order.append("\(Self.column(key)) \(direction) NULLS LAST")
            }
        }
        order += ["m.creation_time DESC", "m.model_id"]
        let sql = "SELECT m.* FROM logged_models m WHERE \(clauses.joined(separator: " AND ")) ORDER BY \(order.joined(separator: ", "))"
        return try service.page(f, default: 100, limit: 10_000, key: "models", sql: sql, StatementArguments(args), object: Self.object)
    }
}

import Foundation
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

    func search(_ f: MLflowFields) throws -> [String: Any] {
        let experiments = try f.strings("experiment_ids")
        guard !experiments.isEmpty else { throw MLflowError.missing("experiment_ids") }
        let experimentIDs: [Int64] = try experiments.map { text in
            guard let id = Int64(text) else { throw MLflowError.invalid("experiment_ids", text, "experiment ids are whole numbers") }
            return id
        }
        let datasets: [LoggedModelSearch.Dataset] = try f.objects("datasets").enumerated().map { i, item in
            .init(name: try item.string("dataset_name").flatMap { $0.isEmpty ? nil : $0 } ?? { throw MLflowError.missing("datasets[\(i)].dataset_name") }(),
                  digest: try item.string("dataset_digest").flatMap { $0.isEmpty ? nil : $0 })
        }
        var filter = try MLflowFilter.parse(f.string("filter"), Self.vocabulary)
        for i in filter?.comparisons.indices ?? 0..<0 {
            // The client writes a status as READY; the store keeps LOGGED_MODEL_READY.
            if filter?.comparisons[i].entity == .attribute, filter?.comparisons[i].key == "status",
               case let .string(s)? = filter?.comparisons[i].value, !s.hasPrefix("LOGGED_MODEL_") {
                filter?.comparisons[i].value = .string("LOGGED_MODEL_" + s)
            }
        }
        var order: [(field: LoggedModelSearch.Field, ascending: Bool)] = []
        for (i, term) in try f.objects("order_by").enumerated() {
            let field = try term.string("field_name") ?? ""
            let ascending = try term.bool("ascending") ?? true
            if field.hasPrefix("metrics.") {
                var on = datasets
                if let name = try term.string("dataset_name"), !name.isEmpty {
                    on = [.init(name: name, digest: try term.string("dataset_digest").flatMap { $0.isEmpty ? nil : $0 })]
                }
                order.append((.metric(String(field.dropFirst("metrics.".count)), datasets: on), ascending))
            } else {
                let key = field.hasPrefix("attributes.") ? String(field.dropFirst("attributes.".count)) : field
                guard Self.vocabulary.attributes.contains(key) else {
                    throw MLflowError.invalid("order_by[\(i)].field_name", field,
                                              "order by metrics.KEY or one of \(Self.vocabulary.attributes.joined(separator: ", "))")
                }
                order.append((.attribute(key), ascending))
            }
        }
        let search = LoggedModelSearch(experimentIDs: experimentIDs, datasets: datasets, filter: filter, order: order)
        return try service.page(f, default: 100, limit: 10_000, key: "models", fetch: { try search.run($0, page: $1) }, object: Self.object)
    }
}


/// A search of logged models: MLflow's filter over attributes, params, tags and metrics, and its
/// order terms. A metric compares and sorts by its latest point (highest step, then latest time),
/// on the requested datasets when any are named. The caller has checked the attributes.
public struct LoggedModelSearch: Sendable {
    public enum Field: Sendable {
        case attribute(String)
        case metric(String, datasets: [Dataset])
    }

    public struct Dataset: Sendable {
        public var name: String
        public var digest: String?
        public init(name: String, digest: String?) {
            self.name = name
            self.digest = digest
        }
    }

    public var experimentIDs: [Int64]
    public var datasets: [Dataset]
    public var filter: RunFilter?
    public var order: [(field: Field, ascending: Bool)]

    public init(experimentIDs: [Int64], datasets: [Dataset], filter: RunFilter?, order: [(field: Field, ascending: Bool)]) {
        self.experimentIDs = experimentIDs
        self.datasets = datasets
        self.filter = filter
        self.order = order
    }

    static func column(_ attribute: String) -> String {
        switch attribute {
        case "creation_timestamp", "creation_time": "m.creation_time"
        case "last_updated_timestamp", "last_updated_time": "m.last_update_time"
        default: "m.\(attribute)"
        }
    }

    /// The latest value of the metric `key` of the model, optionally on the given datasets.
    static func latestMetric(_ key: String, datasets: [Dataset], args: inout SQLArguments) -> String {
        args.append(key)
        var datasetClause = ""
        if !datasets.isEmpty {
            datasetClause = " AND (" + datasets.map { dataset in
                args.append(dataset.name)
                if let digest = dataset.digest { args.append(digest); return "(x.dataset_name = ? AND x.dataset_digest = ?)" }
                return "x.dataset_name = ?"
            }.joined(separator: " OR ") + ")"
        }
        return "(SELECT CASE WHEN x.is_nan = 1 THEN NULL ELSE x.value END FROM logged_model_metrics x WHERE x.model_id = m.model_id AND x.key = ?\(datasetClause) ORDER BY x.step DESC, x.timestamp DESC LIMIT 1)"
    }

    public func run(_ tx: StoreTransaction, page: Page) throws -> [LoggedModelRecords.LoggedModel] {
        var clauses = ["m.lifecycle_stage = 'active'", "m.experiment_id IN (\(experimentIDs.map { _ in "?" }.joined(separator: ",")))"]
        var args: SQLArguments = experimentIDs
        for c in filter?.comparisons ?? [] {
            switch c.entity {
            case .attribute: clauses.append(FilterSQL.compare(c, column: Self.column(c.key), args: &args, tx.dialect))
            case .metric: clauses.append(FilterSQL.compare(c, column: Self.latestMetric(c.key, datasets: datasets, args: &args), args: &args, tx.dialect))
            case .param: clauses.append(FilterSQL.keyValue(c, table: "logged_model_params", match: "t.model_id = m.model_id", args: &args, tx.dialect))
            case .tag: clauses.append(FilterSQL.keyValue(c, table: "logged_model_tags", match: "t.model_id = m.model_id", args: &args, tx.dialect))
            }
        }
        var terms: [String] = []
        var orderArgs: SQLArguments = []
        for (field, ascending) in order {
            let expression = switch field {
            case let .attribute(key): Self.column(key)
            case let .metric(key, on): Self.latestMetric(key, datasets: on, args: &orderArgs)
            }
            terms.append("\(expression) \(ascending ? "ASC" : "DESC") NULLS LAST")
        }
        terms += ["m.creation_time DESC", "m.model_id"]
        let sql = "SELECT m.* FROM logged_models m WHERE \(clauses.joined(separator: " AND ")) ORDER BY \(terms.joined(separator: ", "))"
        return try FilterSQL.page(tx.db, sql, args + orderArgs, limit: page.limit, offset: page.offset).map { try LoggedModelRecords.model(tx.db, $0) }
    }
}


/// MLflow filter comparisons as SQL, shared by the searches of experiments, registered models,
/// model versions and logged models. The caller has checked that each comparison's entity is one
/// the search takes; this only writes the SQL.
enum FilterSQL {
    /// A comparison of one value (an attribute, a metric's latest value) held by `column`.
    static func compare(_ c: RunFilter.Comparison, column: String, args: inout SQLArguments, _ dialect: SQLDialect) -> String {
        let (expression, values) = RunSearch.comparisonSQL(c, column: column, dialect)
        args += values
        return expression
    }

    /// A tag (or param) comparison as MLflow's SQL join makes it: the row has the key, and its
    /// value compares. One exception, MLflow's too: the client asks for plain models with
    /// `tags.mlflow.prompt.is_prompt != 'true'`, which also matches a model without that tag.
    static func keyValue(_ c: RunFilter.Comparison, table: String, match: String, args: inout SQLArguments, _ dialect: SQLDialect) -> String {
        let promptMarker = c.comparator == "!=" && c.key == "mlflow.prompt.is_prompt"
        var compared = c
        if promptMarker { compared.comparator = "=" }
        let (expression, values) = RunSearch.comparisonSQL(compared, column: "t.value", dialect)
        args.append(c.key)
        args += values
        return "\(promptMarker ? "NOT " : "")EXISTS (SELECT 1 FROM \(table) t WHERE \(match) AND t.key = ? AND \(expression))"
    }

    /// One page of rows: `limit` rows from `offset` (the caller asks one past its page to know
    /// whether there are more).
    static func page(_ db: SQLDatabase, _ sql: String, _ args: SQLArguments, limit: Int, offset: Int) throws -> [Row] {
        try Row.fetchAll(db, sql: sql + " LIMIT ? OFFSET ?", arguments: args + [limit, offset])
    }
}

/// A page of a search: how many rows and from where.
public struct Page: Sendable, Hashable {
    public var limit: Int
    public var offset: Int
    public init(limit: Int, offset: Int) {
        self.limit = limit
        self.offset = offset
    }
}

/// Key-value pairs (tags, params) in key order.
public typealias KeyValues = [(key: String, value: String)]

extension Row {
    /// `key`, `value` rows as pairs; a NULL value is empty.
    static func keyValues(_ rows: [Row]) -> KeyValues {
        rows.map { ($0["key"], ($0["value"] as String?) ?? "") }
    }
}

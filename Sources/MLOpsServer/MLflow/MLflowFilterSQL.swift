import GRDB
import MLOpsCore

/// Filter terms on a key-value table (tags, params) as SQL, shared by the searches of experiments,
/// registered models, model versions and logged models.
enum MLflowFilterSQL {
    /// A request's `filter` in MLflow's grammar, or nil when it has none. A malformed one is
    /// MLflow's INVALID_PARAMETER_VALUE, saying at which column it went wrong.
    static func parse(_ text: String?, _ vocabulary: RunFilter.Vocabulary = .runs) throws -> RunFilter? {
        guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        do { return try RunFilter(parsing: text, vocabulary: vocabulary) } catch {
            throw MLflowError(.invalidParameterValue, "Invalid filter '\(text)': \(error.description)")
        }
    }

    /// A comparison of one value (an attribute, a metric's latest value) held by `column`.
    static func compare(_ c: RunFilter.Comparison, column: String, args: inout [any DatabaseValueConvertible]) -> String {
        let (expression, values) = RunSearch.comparisonSQL(c, column: column)
        args += values
        return expression
    }

    /// A tag (or param) comparison as MLflow's SQL join makes it: the row has the key, and its
    /// value compares. One exception, MLflow's too: the client asks for plain models with
    /// `tags.mlflow.prompt.is_prompt != 'true'`, which also matches a model without that tag.
    static func keyValue(_ c: RunFilter.Comparison, table: String, match: String, args: inout [any DatabaseValueConvertible]) -> String {
        let promptMarker = c.comparator == "!=" && c.key == "mlflow.prompt.is_prompt"
        var compared = c
        if promptMarker { compared.comparator = "=" }
        let (expression, values) = RunSearch.comparisonSQL(compared, column: "t.value")
        args.append(c.key)
        args += values
        return "\(promptMarker ? "NOT " : "")EXISTS (SELECT 1 FROM \(table) t WHERE \(match) AND t.key = ? AND \(expression))"
    }
}

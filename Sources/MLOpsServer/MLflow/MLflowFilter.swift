import MLOpsCore

/// A search request's `filter` in MLflow's grammar, for the searches of runs, experiments,
/// registered models, model versions and logged models; the storage layer writes the SQL.
enum MLflowFilter {
    /// The filter, or nil when the request has none. A malformed one is MLflow's
    /// INVALID_PARAMETER_VALUE, saying at which column it went wrong.
    static func parse(_ text: String?, _ vocabulary: RunFilter.Vocabulary = .runs) throws -> RunFilter? {
        guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        do { return try RunFilter(parsing: text, vocabulary: vocabulary) } catch {
            throw MLflowError(.invalidParameterValue, "Invalid filter '\(text)': \(error.description)")
        }
    }

    /// Refuses a comparison on an entity the search does not take, saying what it does take.
    static func require(_ filter: RunFilter?, _ text: String?, entities: Set<RunFilter.Entity>, _ hint: String) throws {
        for comparison in filter?.comparisons ?? [] where !entities.contains(comparison.entity) {
            throw MLflowError(.invalidParameterValue, "Invalid filter '\(text ?? "")': \(hint)")
        }
    }
}

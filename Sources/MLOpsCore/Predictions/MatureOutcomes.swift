import GRDB

/// The outcomes a hit rate is judged on, for both a rollout's analysis and a monitor: contacted,
/// non-holdout predictions of one version whose label is known by `now`. One definition, so the
/// canary and the monitor never count differently.
enum MatureOutcomes {
    static let from = """
        FROM predictions p JOIN outcomes o ON o.prediction_id = p.id
        WHERE p.model_name = ? AND p.model_version = ? AND p.contacted = 1 AND p.holdout = 0 AND o.observed_time <= ?
        """

    /// Trials and hits among them that also meet `condition` (SQL on `p` and `o`, with its arguments).
    static func count(_ db: Database, model: String, version: Int, now: Int64, and condition: String,
                      _ arguments: StatementArguments) throws -> (trials: Int, successes: Int) {
        let row = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, COALESCE(SUM(o.label), 0) AS hits \(from) AND \(condition)",
                                   arguments: [model, version, now] + arguments)
        return (row?["n"] ?? 0, row?["hits"] ?? 0)
    }
}

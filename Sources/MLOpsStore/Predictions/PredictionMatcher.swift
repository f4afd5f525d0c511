
/// Finds the prediction an imported outcome belongs to, by its id or by its entity (the newest
/// prediction for it, of a model and period when given), with statements prepared once per import.
public struct PredictionMatcher {
    private let byID: SQLStatement
    private let byEntity: SQLStatement

    public init(_ tx: StoreTransaction) throws {
        byID = try tx.db.cachedStatement(sql: "SELECT id FROM predictions WHERE id = ?")
        byEntity = try tx.db.cachedStatement(sql: """
            SELECT id FROM predictions WHERE entity_id = ? AND (CAST(? AS TEXT) IS NULL OR model_name = ?)
              AND (CAST(? AS INTEGER) IS NULL OR period = ?) ORDER BY created_time DESC, id DESC LIMIT 1
            """)
    }

    public func prediction(id: Int64) throws -> Int64? {
        try Int64.fetchOne(byID, arguments: [id])
    }

    public func prediction(entity: String, model: String?, period: Int?) throws -> Int64? {
        try Int64.fetchOne(byEntity, arguments: [entity, model, model, period, period])
    }
}

extension PredictionLog {
    /// How many outcomes each version received in the import recorded at `time`.
    public static func outcomesRecorded(_ tx: StoreTransaction, at time: Int64) throws -> [String: Int] {
        Dictionary(uniqueKeysWithValues: try Row.fetchAll(tx.db, sql: """
            SELECT p.model_name || '/' || p.model_version AS version, COUNT(*) AS n FROM outcomes o JOIN predictions p ON p.id = o.prediction_id
            WHERE o.recorded_time = ? GROUP BY 1
            """, arguments: [time]).map { ($0["version"], $0["n"]) })
    }
}

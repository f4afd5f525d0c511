import Foundation

/// The owner of MLflow 3's logged models and their params, tags and metrics.
public enum LoggedModelRecords {
    public struct LoggedModel: Sendable {
        public var id: String
        public var experimentID: Int64
        public var name: String
        public var artifactLocation: String
        public var status: String
        public var statusMessage: String?
        public var modelType: String?
        public var sourceRunID: String?
        public var lifecycleStage: String
        public var creationTime: Int64
        public var lastUpdateTime: Int64
        public var tags: KeyValues
        public var params: KeyValues
        public var metrics: [Metric]
    }

    /// A metric logged against a model: the point, and the run and dataset it was measured on.
    public struct Metric: Sendable {
        public var point: MetricPoint
        public var runID: String?
        public var datasetName: String?
        public var datasetDigest: String?
        public init(point: MetricPoint, runID: String?, datasetName: String?, datasetDigest: String?) {
            self.point = point
            self.runID = runID
            self.datasetName = datasetName
            self.datasetDigest = datasetDigest
        }
    }

    static func model(_ db: SQLDatabase, _ row: Row) throws -> LoggedModel {
        let id: String = row["model_id"]
        let tags = try Row.fetchAll(db, sql: "SELECT key, value FROM logged_model_tags WHERE model_id = ? ORDER BY key", arguments: [id])
        let params = try Row.fetchAll(db, sql: "SELECT key, value FROM logged_model_params WHERE model_id = ? ORDER BY key", arguments: [id])
        let metrics = try Row.fetchAll(db, sql: """
            SELECT key, value, is_nan, timestamp, step, run_uuid, dataset_name, dataset_digest FROM logged_model_metrics
            WHERE model_id = ? ORDER BY key, step, timestamp
            """, arguments: [id]).map { row in
            Metric(point: MetricPoint(row: row), runID: (row["run_uuid"] as String?).flatMap { $0.isEmpty ? nil : $0 },
                   datasetName: row["dataset_name"], datasetDigest: row["dataset_digest"])
        }
        return LoggedModel(id: id, experimentID: row["experiment_id"], name: row["name"], artifactLocation: row["artifact_location"],
                           status: row["status"], statusMessage: row["status_message"], modelType: row["model_type"], sourceRunID: row["source_run_id"],
                           lifecycleStage: row["lifecycle_stage"], creationTime: row["creation_time"], lastUpdateTime: row["last_update_time"],
                           tags: Row.keyValues(tags), params: Row.keyValues(params), metrics: metrics)
    }

    public static func model(_ tx: StoreTransaction, _ id: String) throws -> LoggedModel? {
        try Row.fetchOne(tx.db, sql: "SELECT * FROM logged_models WHERE model_id = ?", arguments: [id]).map { try model(tx.db, $0) }
    }

    public static func exists(_ tx: StoreTransaction, _ id: String) throws -> Bool {
        try Bool.fetchOne(tx.db, sql: "SELECT 1 FROM logged_models WHERE model_id = ?", arguments: [id]) == true
    }

    public static func create(_ tx: StoreTransaction, id: String, experimentID: Int64, name: String, artifactLocation: String,
                              modelType: String?, sourceRunID: String?, now: Int64) throws {
        try tx.db.execute(sql: """
            INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_time, last_update_time, model_type, source_run_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [id, experimentID, name, artifactLocation, now, now, modelType, sourceRunID])
        try AuditLog.record(tx, entityType: "logged_model", entityID: id, action: "create", detail: name)
    }

    public static func setStatus(_ tx: StoreTransaction, _ id: String, _ status: String, now: Int64) throws {
        try tx.db.execute(sql: "UPDATE logged_models SET status = ?, last_update_time = ? WHERE model_id = ?", arguments: [status, now, id])
    }

    public static func delete(_ tx: StoreTransaction, _ id: String, now: Int64) throws {
        try tx.db.execute(sql: "UPDATE logged_models SET lifecycle_stage = 'deleted', last_update_time = ? WHERE model_id = ?", arguments: [now, id])
        try AuditLog.record(tx, entityType: "logged_model", entityID: id, action: "delete")
    }

    public static func param(_ tx: StoreTransaction, _ id: String, _ key: String) throws -> String? {
        try String.fetchOne(tx.db, sql: "SELECT value FROM logged_model_params WHERE model_id = ? AND key = ?", arguments: [id, key])
    }

    /// Params are write-once: the caller has checked that none changes.
    public static func insertParam(_ tx: StoreTransaction, _ id: String, _ key: String, _ value: String) throws {
        try tx.db.execute(sql: "INSERT INTO logged_model_params (model_id, key, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", arguments: [id, key, value])
    }

    public static func tag(_ tx: StoreTransaction, _ id: String, _ key: String) throws -> String? {
        try String.fetchOne(tx.db, sql: "SELECT value FROM logged_model_tags WHERE model_id = ? AND key = ?", arguments: [id, key])
    }

    public static func setTag(_ tx: StoreTransaction, _ id: String, _ key: String, _ value: String) throws {
        try tx.db.execute(sql: """
            INSERT INTO logged_model_tags (model_id, key, value) VALUES (?, ?, ?)
            ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value
            """, arguments: [id, key, value])
    }

    public static func touch(_ tx: StoreTransaction, _ id: String, now: Int64) throws {
        try tx.db.execute(sql: "UPDATE logged_models SET last_update_time = ? WHERE model_id = ?", arguments: [now, id])
    }

    /// False when the model had no such tag.
    public static func deleteTag(_ tx: StoreTransaction, _ id: String, _ key: String) throws -> Bool {
        try tx.db.execute(sql: "DELETE FROM logged_model_tags WHERE model_id = ? AND key = ?", arguments: [id, key])
        return tx.db.changesCount > 0
    }

    /// Metrics a run logged against models; the same point logged again replaces it.
    public static func logMetrics(_ tx: StoreTransaction, runID: String, _ metrics: [(modelID: String, metric: Metric)]) throws {
        let statement = try tx.db.cachedStatement(sql: """
            INSERT INTO logged_model_metrics (model_id, key, value, is_nan, timestamp, step, run_uuid, dataset_name, dataset_digest)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (model_id, key, step, timestamp, run_uuid) DO UPDATE SET
                value = excluded.value, is_nan = excluded.is_nan, dataset_name = excluded.dataset_name, dataset_digest = excluded.dataset_digest
            """)
        for (modelID, metric) in metrics {
            let isNaN = metric.point.value.isNaN
            try statement.execute(arguments: [modelID, metric.point.key, isNaN ? 0 : metric.point.value, isNaN, metric.point.timestamp,
                                              metric.point.step, runID, metric.datasetName, metric.datasetDigest])
        }
    }
}

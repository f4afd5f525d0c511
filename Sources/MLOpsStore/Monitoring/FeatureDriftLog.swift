import Foundation
import MLOpsLearn

/// Each scored batch's features against its model's training reference, kept per batch so that a
/// monitor reports the drift of what the champion scored last, and `mlops runs` shows it on the
/// score stage's run and on the monitor's.
public enum FeatureDriftLog {
    public struct Entry: Sendable {
        public var model: String
        public var version: Int
        public var period: Int?
        public var time: Int64
        public var report: DriftReport
    }

    public static func record(_ tx: StoreTransaction, model: String, version: Int, period: Int?, runID: String?, report: DriftReport, now: Int64) throws {
        let text = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        try tx.db.execute(sql: """
            INSERT INTO feature_drift (model_name, model_version, period, run_uuid, computed_time, drift_share, report)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [model, version, period, runID, now, report.share, text])
    }

    /// The newest batch scored by `version` at or before `now`.
    public static func latest(_ tx: StoreTransaction, model: String, version: Int, now: Int64) throws -> Entry? {
        guard let row = try Row.fetchOne(tx.db, sql: """
            SELECT * FROM feature_drift WHERE model_name = ? AND model_version = ? AND computed_time <= ? ORDER BY id DESC LIMIT 1
            """, arguments: [model, version, now]),
            let report = try? JSONDecoder().decode(DriftReport.self, from: Data((row["report"] as String).utf8)) else { return nil }
        return Entry(model: model, version: version, period: row["period"], time: row["computed_time"], report: report)
    }

    /// The report as run metrics: the share of drifted features and each feature's PSI.
    public static func metrics(_ report: DriftReport) -> [String: Double] {
        var metrics = ["drift_share": report.share]
        for column in report.columns { metrics["psi_\(column.name)"] = column.psi }
        return metrics
    }
}

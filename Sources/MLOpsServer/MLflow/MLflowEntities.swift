import Foundation
import GRDB
import MLOpsCore

/// Our rows in MLflow's JSON shapes (its protobuf messages with their field names); ids of
/// experiments and model versions are strings, timestamps are int64 milliseconds.
enum MLflowEntities {
    static func experiment(_ row: Row, tags: [String: String]) -> [String: Any] {
        var object: [String: Any] = [
            "experiment_id": String(row["experiment_id"] as Int64), "name": row["name"] as String,
            "lifecycle_stage": row["lifecycle_stage"] as String,
            "tags": keyValues(tags),
        ]
        if let location = row["artifact_location"] as String? { object["artifact_location"] = location }
        if let created = row["creation_time"] as Int64? { object["creation_time"] = created }
        if let updated = row["last_update_time"] as Int64? { object["last_update_time"] = updated }
        return object
    }

    static func runInfo(_ run: RunRecord) -> [String: Any] {
        var info: [String: Any] = [
            "run_id": run.id, "run_uuid": run.id, "experiment_id": String(run.experimentID),
            "status": run.status.rawValue, "lifecycle_stage": run.lifecycleStage,
        ]
        if let name = run.name { info["run_name"] = name }
        if let user = run.userID { info["user_id"] = user }
        if let start = run.startTime { info["start_time"] = start }
        if let end = run.endTime { info["end_time"] = end }
        if let uri = run.artifactURI { info["artifact_uri"] = uri }
        return info
    }

    static func metric(_ point: MetricPoint) -> [String: Any] {
        ["key": point.key, "value": number(point.value), "timestamp": point.timestamp, "step": point.step]
    }

    /// NaN and the infinities as proto3 JSON writes them.
    static func number(_ value: Double) -> Any {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "Infinity" : "-Infinity" }
        return value
    }

    static func keyValues(_ values: [String: String]) -> [[String: String]] {
        values.sorted { $0.key < $1.key }.map { ["key": $0.key, "value": $0.value] }
    }

    /// A `key`, `value` row (a tag) as MLflow's key-value message; a NULL value is empty.
    static func keyValue(_ row: Row) -> [String: String] {
        ["key": row["key"], "value": (row["value"] as String?) ?? ""]
    }

    /// Offsets into an ordered result, as opaque tokens.
    static func pageToken(offset: Int) -> String {
        Data(#"{"offset": \#(offset)}"#.utf8).base64EncodedString()
    }

    static func offset(fromPageToken token: String?) throws -> Int {
        guard let token, !token.isEmpty else { return 0 }
        guard let data = Data(base64Encoded: token),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let offset = (object["offset"] as? NSNumber)?.intValue, offset >= 0 else {
            throw MLflowError(.invalidParameterValue, "Invalid page token, could not base64-decode")
        }
        return offset
    }
}

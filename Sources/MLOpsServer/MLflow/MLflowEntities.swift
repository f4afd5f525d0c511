import Foundation
import MLOpsCore

/// Our rows in MLflow's JSON shapes (its protobuf messages with their field names); ids of
/// experiments and model versions are strings, timestamps are int64 milliseconds.
enum MLflowEntities {
    static func experiment(_ e: ExperimentRecords.Experiment) -> [String: Any] {
        var object: [String: Any] = [
            "experiment_id": String(e.id), "name": e.name, "lifecycle_stage": e.lifecycleStage, "tags": keyValues(e.tags),
        ]
        if let location = e.artifactLocation { object["artifact_location"] = location }
        if let created = e.creationTime { object["creation_time"] = created }
        if let updated = e.lastUpdateTime { object["last_update_time"] = updated }
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
        if let uri = run.clientArtifactURI { info["artifact_uri"] = uri }
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

    /// Tags or params, in key order, as MLflow's key-value messages.
    static func keyValues(_ values: KeyValues) -> [[String: String]] {
        values.map { ["key": $0.key, "value": $0.value] }
    }

    /// Offsets into an ordered result, as opaque tokens.
    static func pageToken(offset: Int) -> String {
        Data(#"{"offset": \#(offset)}"#.utf8).base64EncodedString()
    }

    static func offset(fromPageToken token: String?) throws -> Int {
        guard let token, !token.isEmpty else { return 0 }
        guard let data = Data(base64Encoded: token),
              let object = try? JSONBody.parse(String(decoding: data, as: UTF8.self)) as? [String: Any],
              let number = object["offset"] as? Double, number >= 0, number < 1e15, let offset = Int(exactly: number) else {
            throw MLflowError(.invalidParameterValue, "Invalid page token, could not base64-decode")
        }
        return offset
    }
}

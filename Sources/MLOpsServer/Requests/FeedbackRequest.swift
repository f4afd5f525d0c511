import Foundation
import MLOpsCore

/// An outcome for an earlier prediction, decoded at the edge: `{"prediction_id": 12, "label": 1}` or
/// `{"entity_id": "c1", "model": "propensity", "label": true}`; `observed_time` (ms) is optional.
struct FeedbackRequest {
    var label: Bool
    var target: PredictionLog.OutcomeTarget
    var observedTime: Int64?

    /// The field that names the prediction, for a 404 that points at it.
    var targetField: String {
        if case .prediction = target { return "prediction_id" }
        return "entity_id"
    }

    init(_ body: [String: Any]) throws {
        switch body["label"] {
        case let flag as Bool: label = flag
        case let number as Double where number == 0 || number == 1: label = number == 1
        case nil: throw APIError(.badRequest, "no `label` (true/false or 1/0)", field: "label")
        default: throw APIError(.badRequest, "`label` is true/false or 1/0", field: "label")
        }
        if let id = body["prediction_id"] as? Double, id.rounded() == id, id >= 0, id < 9e15 {
            target = .prediction(Int64(id))
        } else if let entity = body["entity_id"] as? String {
            target = .entity(entity, model: body["model"] as? String)
        } else {
            throw APIError(.badRequest, "name the prediction: `prediction_id`, or `entity_id` (and `model`)", field: "prediction_id")
        }
        observedTime = (body["observed_time"] as? Double).flatMap { $0.isFinite && abs($0) < 9e15 ? Int64($0) : nil }
    }
}

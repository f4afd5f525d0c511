import Foundation

/// A predict request, decoded at the edge: one row, `{"entity_id": "c1", "features": {...}}`, or a
/// batch, `{"instances": [ ...rows ]}`. Every field a row has is checked here, with the path of the
/// one that is wrong; the features themselves are the model's to judge.
struct PredictRequest {
    struct Row {
        /// Who the prediction is for: routes the request stickily; nil for an anonymous request.
        var entity: String?
        var features: [String: Any]
        /// Where the row sits in the request, for errors (`instances[3].`, or empty).
        var path: String
    }

    var rows: [Row]
    var isBatch: Bool

    init(_ body: [String: Any], maxRows: Int) throws {
        guard let instances = body["instances"] else {
            rows = [try Self.row(body, path: "")]
            isBatch = false
            return
        }
        guard let list = instances as? [Any], !list.isEmpty else { throw APIError(.badRequest, "`instances` is a non-empty list of rows", field: "instances") }
        guard list.count <= maxRows else {
            throw APIError(.contentTooLarge, "\(list.count) rows; a batch holds at most \(maxRows)", field: "instances")
        }
        rows = try list.enumerated().map { i, item in
            guard let object = item as? [String: Any] else { throw APIError(.badRequest, "row \(i) is not an object", field: "instances[\(i)]") }
            return try Self.row(object, path: "instances[\(i)]")
        }
        isBatch = true
    }

    static func row(_ object: [String: Any], path: String) throws -> Row {
        let prefix = path.isEmpty ? "" : path + "."
        let entity: String?
        switch object["entity_id"] ?? object["key"] {
        case nil, is NSNull: entity = nil
        case let text as String: entity = text
        case let number as Double where number.rounded() == number && abs(number) < 1e15: entity = String(Int64(number))
        case let number as Double: entity = String(number)
        default: throw APIError(.badRequest, "`entity_id` is a string or a number", field: prefix + "entity_id")
        }
        guard let features = object["features"] as? [String: Any] else {
            throw APIError(.badRequest, object["features"] == nil ? "no `features` object" : "`features` must be an object", field: prefix + "features")
        }
        return Row(entity: entity, features: features, path: prefix)
    }
}

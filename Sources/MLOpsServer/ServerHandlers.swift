import Foundation
import Hummingbird
import MLOpsCore
import MLOpsLearn

/// The server's routes. Predict answers from memory and leaves the recording to the writer.
struct ServerHandlers: Sendable {
    let catalog: ServingCatalog
    let writer: PredictionWriter
    let metrics: ServerMetrics
    let store: Store
    let configuration: ModelServer.Configuration

    func register(on router: Router<BasicRequestContext>) {
        router.post("/v1/models/:name/predict") { request, context in
            try await measured("predict") { try await predict(request, context) }
        }
        router.post("/v1/feedback") { request, context in
            try await measured("feedback") { try await feedback(request) }
        }
        router.get("/v1/models/:name") { request, context in
            try await measured("model") { try model(context) }
        }
        router.get("/v1/models") { _, _ in
            JSONResponse.ok(object: ["models": catalog.models])
        }
        router.get("/health") { _, _ in JSONResponse.ok(#"{"status":"ok"}"#) }
        router.get("/ready") { _, _ in
            catalog.isReady ? JSONResponse.ok(#"{"status":"ready","models":\#(catalog.models.count)}"#)
                : JSONResponse.ok(#"{"status":"starting"}"#, status: .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: metrics.text())))
        }
    }

    /// Counts the request by route and status, and times it.
    func measured(_ route: String, _ body: () async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await body()
            metrics.requests(route: route, status: Int(response.status.code)).increment()
            metrics.requestDuration.record(ContinuousClock.now - start)
            return response
        } catch let error as APIError {
            metrics.requests(route: route, status: Int(error.status.code)).increment()
            throw error
        }
    }

    // MARK: Predict

    /// One row, `{"entity_id": "c1", "features": {...}}`, or a batch, `{"instances": [ ...rows ]}`.
    func predict(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = context.parameters.get("name") ?? ""
        guard let route = catalog.route(name) else {
            let known = catalog.models
            throw APIError(.notFound, "no model '\(name)' is being served" + (Suggestion.hint(for: name, in: known).map { "; \($0)" } ?? "")
                + (known.isEmpty ? " (no model has a champion yet)" : ""), field: "name")
        }
        var request = request
        let body = try await request.jsonObject(limit: configuration.maxBodyBytes)
        let now = store.nowMillis()
        if let instances = body["instances"] {
            guard let rows = instances as? [Any], !rows.isEmpty else { throw APIError(.badRequest, "`instances` is a non-empty list of rows", field: "instances") }
            guard rows.count <= configuration.maxBatchRows else {
                throw APIError(.contentTooLarge, "\(rows.count) rows; a batch holds at most \(configuration.maxBatchRows)", field: "instances")
            }
            var answers: [String] = []
            answers.reserveCapacity(rows.count)
            // Score every row before recording any, so a bad row refuses the whole batch.
            var scored: [(entity: String?, served: ServingCatalog.Served, score: Double)] = []
            for (i, row) in rows.enumerated() {
                guard let object = row as? [String: Any] else { throw APIError(.badRequest, "row \(i) is not an object", field: "instances[\(i)]") }
                scored.append(try score(object, route: route, path: "instances[\(i)]"))
            }
            for item in scored {
                let id = try record(item.entity, item.served, item.score, route: route, now: now)
                answers.append(answer(id: id, entity: item.entity, version: item.served.version, score: item.score))
            }
            return JSONResponse.ok(#"{"model":\#(JSONResponse.quote(name)),"predictions":[\#(answers.joined(separator: ","))]}"#)
        }
        let item = try score(body, route: route, path: "")
        let id = try record(item.entity, item.served, item.score, route: route, now: now)
        return JSONResponse.ok(#"{"model":\#(JSONResponse.quote(name)),"#
            + answer(id: id, entity: item.entity, version: item.served.version, score: item.score).dropFirst())
    }

    func score(_ row: [String: Any], route: ServingCatalog.Route, path: String) throws -> (entity: String?, served: ServingCatalog.Served, score: Double) {
        let prefix = path.isEmpty ? "" : path + "."
        let entity: String?
        switch row["entity_id"] ?? row["key"] {
        case nil, is NSNull: entity = nil
        case let text as String: entity = text
        case let number as Double where number.rounded() == number && abs(number) < 1e15: entity = String(Int64(number))
        case let number as Double: entity = String(number)
        default: throw APIError(.badRequest, "`entity_id` is a string or a number", field: prefix + "entity_id")
        }
        guard let features = row["features"] as? [String: Any] else {
            throw APIError(.badRequest, row["features"] == nil ? "no `features` object" : "`features` must be an object", field: prefix + "features")
        }
        let served = route.served(for: entity)
        do {
            return (entity, served, try served.scorer.score(features, path: prefix + "features"))
        } catch {
            throw APIError(.unprocessableContent, error.message, field: error.field)
        }
    }

    func record(_ entity: String?, _ served: ServingCatalog.Served, _ score: Double, route: ServingCatalog.Route, now: Int64) throws -> Int64 {
        let id = try writer.nextID()
        writer.append(.init(id: id, runID: "serve", model: route.model, version: served.version, entity: entity ?? "request:\(id)",
                            score: score, time: now, rolloutID: route.candidate != nil ? route.rolloutID : nil))
        served.counter.increment()
        return id
    }

    func answer(id: Int64, entity: String?, version: Int, score: Double) -> String {
        #"{"prediction_id":\#(id),"version":\#(version),"score":\#(score)"# + (entity.map { #","entity_id":\#(JSONResponse.quote($0))"# } ?? "") + "}"
    }

    // MARK: Feedback

    /// `{"prediction_id": 12, "label": 1}` or `{"entity_id": "c1", "model": "propensity", "label": true}`;
    /// `observed_time` (ms) defaults to now.
    func feedback(_ request: Request) async throws -> Response {
        var request = request
        let body = try await request.jsonObject(limit: configuration.maxBodyBytes)
        let label: Bool
        switch body["label"] {
        case let flag as Bool: label = flag
        case let number as Double where number == 0 || number == 1: label = number == 1
        case nil: throw APIError(.badRequest, "no `label` (true/false or 1/0)", field: "label")
        default: throw APIError(.badRequest, "`label` is true/false or 1/0", field: "label")
        }
        let target: PredictionLog.OutcomeTarget
        if let id = body["prediction_id"] as? Double, id.rounded() == id, id >= 0, id < 9e15 {
            target = .prediction(Int64(id))
        } else if let entity = body["entity_id"] as? String {
            target = .entity(entity, model: body["model"] as? String)
        } else {
            throw APIError(.badRequest, "name the prediction: `prediction_id`, or `entity_id` (and `model`)", field: "prediction_id")
        }
        let observed = (body["observed_time"] as? Double).flatMap { $0.isFinite && abs($0) < 9e15 ? Int64($0) : nil } ?? store.nowMillis()
        writer.flush()
        do {
            let id = try PredictionLog(store: store).recordOutcome(target, label: label, observedTime: observed)
            metrics.feedback().increment()
            return JSONResponse.ok(#"{"prediction_id":\#(id),"label":\#(label)}"#)
        } catch let error as PredictionLog.OutcomeError {
            throw APIError(.notFound, error.description, field: body["prediction_id"] != nil ? "prediction_id" : "entity_id")
        }
    }

    // MARK: Model

    func model(_ context: BasicRequestContext) throws -> Response {
        let name = context.parameters.get("name") ?? ""
        let rollouts = RolloutStore(store: store)
        guard let route = catalog.route(name) else { throw APIError(.notFound, "no model '\(name)' is being served", field: "name") }
        var object: [String: Any] = ["model": name, "champion": route.stable.version]
        var routing: [String: Any] = ["stable": route.stable.version, "weight": route.candidate == nil ? 0 : route.weight]
        routing["candidate"] = route.candidate?.version
        object["routing"] = routing
        object["rollout"] = try rollouts.latest(name)?.jsonObject
        return JSONResponse.ok(object: object)
    }
}

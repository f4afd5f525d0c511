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
        let decoded = try PredictRequest(try await request.jsonObject(limit: configuration.maxBodyBytes), maxRows: configuration.maxBatchRows)
        let now = store.nowMillis()
        // Score every row before recording any, so a bad row refuses the whole batch.
        let scored = try decoded.rows.map { try score($0, route: route) }
        var answers: [String] = []
        var entries: [PredictionLog.Entry] = []
        answers.reserveCapacity(scored.count)
        entries.reserveCapacity(scored.count)
        for item in scored {
            let id = try writer.nextID()
            entries.append(entry(id, item.entity, item.served, item.score, route: route, now: now))
            answers.append(answer(id: id, entity: item.entity, version: item.served.version, score: item.score))
        }
        // Answered once recorded: an acknowledged prediction is never lost.
        try await writer.commit(entries)
        for item in scored { item.served.counter.increment() }
        if decoded.isBatch {
            return JSONResponse.ok(#"{"model":\#(JSONResponse.quote(name)),"predictions":[\#(answers.joined(separator: ","))]}"#)
        }
        return JSONResponse.ok(#"{"model":\#(JSONResponse.quote(name)),"# + answers[0].dropFirst())
    }

    func score(_ row: PredictRequest.Row, route: ServingCatalog.Route) throws -> (entity: String?, served: ServingCatalog.Served, score: Double) {
        let served = route.served(for: row.entity)
        do {
            return (row.entity, served, try served.scorer.score(row.features, path: row.path + "features"))
        } catch {
            throw APIError(.unprocessableContent, error.message, field: error.field)
        }
    }

    func entry(_ id: Int64, _ entity: String?, _ served: ServingCatalog.Served, _ score: Double, route: ServingCatalog.Route, now: Int64) -> PredictionLog.Entry {
        .init(id: id, runID: "serve", model: route.model, version: served.version, entity: entity ?? "request:\(id)",
                     score: score, time: now, rolloutID: route.candidate != nil ? route.rolloutID : nil)
    }

    func answer(id: Int64, entity: String?, version: Int, score: Double) -> String {
        #"{"prediction_id":\#(id),"version":\#(version),"score":\#(score)"# + (entity.map { #","entity_id":\#(JSONResponse.quote($0))"# } ?? "") + "}"
    }

    // MARK: Feedback

    /// An outcome for an earlier prediction (`FeedbackRequest`); `observed_time` defaults to now.
    func feedback(_ request: Request) async throws -> Response {
        var request = request
        let feedback = try FeedbackRequest(try await request.jsonObject(limit: configuration.maxBodyBytes))
        do {
            let id = try PredictionLog(store: store).recordOutcome(feedback.target, label: feedback.label,
                                                                   observedTime: feedback.observedTime ?? store.nowMillis())
            metrics.feedback().increment()
            return JSONResponse.ok(#"{"prediction_id":\#(id),"label":\#(feedback.label)}"#)
        } catch let error as PredictionLog.OutcomeError {
            throw APIError(.notFound, error.description, field: feedback.targetField)
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

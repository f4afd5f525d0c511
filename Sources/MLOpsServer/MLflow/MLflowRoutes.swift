import Foundation
import Hummingbird
import MLOpsCore

/// MLflow's REST API on a router: `/api/2.0/mlflow/…` for tracking (and the registry), the
/// artifact proxy, and `/api/3.0/mlflow/server-info`. `mlops server` serves these alone; `mlops
/// serve` adds them beside the models.
public struct MLflowRoutes: Sendable {
    let service: MLflowService
    let registry: MLflowRegistry
    let artifacts: MLflowArtifacts
    let loggedModels: MLflowLoggedModels
    let maxBodyBytes: Int

    /// `artifactRoot` holds what clients upload through the proxy (`mlflow-artifacts:/…`).
    public init(store: Store, artifactRoot: String, registryDirectory: String, maxBodyBytes: Int = 32 << 20) {
        service = MLflowService(store: store, artifactRoot: artifactRoot)
        artifacts = MLflowArtifacts(root: artifactRoot, registryRoot: registryDirectory) { runID in
            try? store.read { try Tracker.run($0, runID) }.flatMap(MLflowArtifacts.remoteRunFolder)
        }
        registry = MLflowRegistry(service: service, registry: ModelRegistry(store: store, directory: registryDirectory), artifacts: artifacts)
        loggedModels = MLflowLoggedModels(service: service, artifacts: artifacts)
        self.maxBodyBytes = maxBodyBytes
    }

    public func register<Context: RequestContext>(on router: Router<Context>) {
        let api = router.group("api").add(middleware: MLflowErrorMiddleware<Context>())
        let v2 = api.group("2.0/mlflow")
        let s = service
        func endpoint(_ path: String, _ methods: [HTTPRequest.Method], _ body: @escaping @Sendable (MLflowFields) throws -> [String: Any]) {
            for method in methods {
                v2.on(RouterPath(path), method: method) { request, context in
                    var request = request
                    var fields = try await MLflowFields.read(&request, limit: maxBodyBytes)
                    // Path parameters (`logged-models/:model_id`) win over body fields.
                    for name in ["model_id", "tag_key"] {
                        if let value = context.parameters.get(name) { fields.object[name] = value.removingPercentEncoding ?? String(value) }
                    }
                    return JSONResponse.ok(object: try body(fields))
                }
            }
        }
        endpoint("experiments/create", [.post], s.createExperiment)
        endpoint("experiments/get", [.get], s.getExperiment)
        endpoint("experiments/get-by-name", [.get], s.getExperimentByName)
        endpoint("experiments/search", [.post, .get], s.searchExperiments)
        endpoint("experiments/update", [.post], s.updateExperiment)
        endpoint("experiments/delete", [.post]) { try s.setExperimentLifecycle($0, to: "deleted") }
        endpoint("experiments/restore", [.post]) { try s.setExperimentLifecycle($0, to: "active") }
        endpoint("experiments/set-experiment-tag", [.post], s.setExperimentTag)
        endpoint("experiments/delete-experiment-tag", [.post], s.deleteExperimentTag)

        endpoint("runs/create", [.post], s.createRun)
        endpoint("runs/get", [.get], s.getRun)
        endpoint("runs/update", [.post], s.updateRun)
        endpoint("runs/delete", [.post]) { try s.setRunLifecycle($0, to: "deleted") }
        endpoint("runs/restore", [.post]) { try s.setRunLifecycle($0, to: "active") }
        endpoint("runs/log-metric", [.post], s.logMetric)
        endpoint("runs/log-parameter", [.post], s.logParam)
        endpoint("runs/log-batch", [.post], s.logBatch)
        endpoint("runs/set-tag", [.post], s.setTag)
        endpoint("runs/delete-tag", [.post], s.deleteTag)
        endpoint("runs/log-inputs", [.post], s.logInputs)
        endpoint("runs/outputs", [.post], s.logOutputs)
        endpoint("runs/search", [.post, .get], s.searchRuns)
        endpoint("metrics/get-history", [.get], s.metricHistory)
        let r = registry
        endpoint("registered-models/create", [.post], r.createModel)
        endpoint("registered-models/get", [.get], r.getModel)
        endpoint("registered-models/update", [.patch], r.updateModel)
        endpoint("registered-models/rename", [.post], r.renameModel)
        endpoint("registered-models/delete", [.delete], r.deleteModel)
        endpoint("registered-models/search", [.get], r.searchModels)
        endpoint("registered-models/get-latest-versions", [.post, .get], r.latestVersions)
        endpoint("registered-models/set-tag", [.post], r.setModelTag)
        endpoint("registered-models/delete-tag", [.delete], r.deleteModelTag)
        endpoint("registered-models/alias", [.post], r.setAlias)
        endpoint("registered-models/alias", [.delete], r.deleteAlias)
        endpoint("registered-models/alias", [.get], r.versionByAlias)
        endpoint("model-versions/create", [.post], r.createVersion)
        endpoint("model-versions/get", [.get], r.getVersion)
        endpoint("model-versions/update", [.patch], r.updateVersion)
        endpoint("model-versions/delete", [.delete], r.deleteVersion)
        endpoint("model-versions/search", [.get], r.searchVersions)
        endpoint("model-versions/set-tag", [.post], r.setVersionTag)
        endpoint("model-versions/delete-tag", [.delete], r.deleteVersionTag)
        endpoint("model-versions/transition-stage", [.post], r.transitionStage)
        endpoint("model-versions/get-download-uri", [.get], r.downloadURI)
        let m = loggedModels
        endpoint("logged-models", [.post], m.create)
        endpoint("logged-models/search", [.post], m.search)
        endpoint("logged-models/:model_id", [.get], m.get)
        endpoint("logged-models/:model_id", [.patch], m.finalize)
        endpoint("logged-models/:model_id", [.delete], m.delete)
        endpoint("logged-models/:model_id/tags", [.patch], m.setTags)
        endpoint("logged-models/:model_id/tags/:tag_key", [.delete], m.deleteTag)
        endpoint("logged-models/:model_id/params", [.post], m.logParams)
        endpoint("logged-models/:model_id/artifacts/directories", [.get], m.listArtifacts)

        let files = api.group("2.0/mlflow-artifacts/artifacts")
        let artifacts = self.artifacts
        files.get { request, _ in
            JSONResponse.ok(object: try artifacts.list(request.uri.queryParameters.get("path")))
        }
        files.put("**") { request, context in try await artifacts.upload(request, context) }
        files.get("**") { _, context in try await artifacts.download(context) }
        files.delete("**") { _, context in try artifacts.delete(context) }

        api.get("3.0/mlflow/server-info") { _, _ in
            JSONResponse.ok(object: [
                "store_type": "SqlStore", "workspaces_enabled": false, "trace_archival_enabled": false,
                "multipart_uploads_enabled": false, "multipart_downloads_enabled": false,
                "presigned_upload_run_id_supported": false, "presigned_upload_model_id_supported": false,
                "features_enabled": ["gateway": false],
            ])
        }
        // Anything else under /api/ is an endpoint we do not serve, said MLflow's way. The
        // router's not-found answer passes through router-level middleware only.
        router.add(middleware: MLflowUnknownEndpointMiddleware<Context>())
    }
}

/// An unknown path or method under `/api/` as MLflow answers it (`ENDPOINT_NOT_FOUND` in a JSON
/// body), rather than the router's empty 404, which the client reports as an unreadable error.
struct MLflowUnknownEndpointMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && request.uri.path.hasPrefix("/api/") {
            throw MLflowError(.endpointNotFound, "No API endpoint \(request.method) \(request.uri.path)")
        }
    }
}

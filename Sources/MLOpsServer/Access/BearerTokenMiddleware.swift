import Hummingbird

/// Refuses a request without the server's bearer token with 401, before any route sees it.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: AccessPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard policy.token != nil, !AccessPolicy.openPaths.contains(request.uri.path) else { return try await next(request, context) }
        guard policy.admits(request.headers[.authorization]) else {
            var response = JSONResponse.ok(object: [
                "error_code": "UNAUTHENTICATED", "status": 401,
                "error": "this server needs a bearer token: send `Authorization: Bearer TOKEN` (the mlflow client: MLFLOW_TRACKING_TOKEN)",
            ], status: .unauthorized)
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        return try await next(request, context)
    }
}

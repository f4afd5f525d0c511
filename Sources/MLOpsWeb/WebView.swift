import Foundation
import Hummingbird
import MLOpsCore
import MLOpsText

/// The web view: runs (and, later, models, rollouts, monitors and jobs) as HTML rendered on the
/// server from the store's owners, at `base` (`""` for `mlops server`, `/ui` for `mlops serve`).
/// Every page's state is in its URL, so a view is shared by its link. Read-only.
public struct WebView: Sendable {
    public var store: Store
    public var workspace: Workspace
    public var base: String

    public init(store: Store, workspace: Workspace, base: String = "") {
        self.store = store
        self.workspace = workspace
        self.base = base
    }

    public func register<Context: RequestContext>(on router: Router<Context>) {
        let view = self
        router.get(base.isEmpty ? "/" : "\(base)") { request, _ in try view.html(RunsPage(view: view, query: request.uri.queryParameters).render()) }
        router.get("\(base)/runs") { request, _ in try view.html(RunsPage(view: view, query: request.uri.queryParameters).render()) }
        router.get("\(base)/runs/:id") { request, context in
            try view.html(RunPage(view: view, runID: try context.parameters.require("id")).render())
        }
        router.get("\(base)/models") { _, _ in try view.html(ModelsPage(view: view).render()) }
        router.get("\(base)/models/:name") { _, context in
            let name = try context.parameters.require("name")
            return try view.html(ModelsPage(view: view).render(model: name.removingPercentEncoding ?? name))
        }
        router.get("\(base)/rollouts") { _, _ in try view.html(RolloutsPage(view: view).render()) }
        router.get("\(base)/rollouts/:id") { _, context in try view.html(RolloutsPage(view: view).render(rollout: try context.parameters.require("id"))) }
        router.get("\(base)/compare") { request, _ in
            try view.html(ComparePage(view: view, ids: request.uri.queryParameters.getAll("run")).render())
        }
        router.get("\(base)/jobs") { _, _ in try view.html(JobsPage(view: view).render()) }
        router.get("\(base)/monitors") { _, _ in try view.html(MonitorsPage(view: view).render()) }
        router.get("\(base)/monitors/:name") { _, context in try view.html(MonitorsPage(view: view).render(monitor: try context.parameters.require("name"))) }
        router.get("\(base)/runs/:id/metrics/:file") { _, context in
            let file = try context.parameters.require("file")
            guard file.hasSuffix(".csv") else { throw PageNotFound(message: "A metric's points are at KEY.csv") }
            return try MetricExport(view: view, runID: try context.parameters.require("id"), key: String(file.dropLast(4))).csv()
        }
        router.get("\(base)/runs/:id/log") { request, context in
            let offset = request.uri.queryParameters["offset"].flatMap { Int64(String($0)) } ?? 0
            return try RunLog(view: view, runID: try context.parameters.require("id")).json(from: offset)
        }
    }

    var templates: WebTemplates { .shared }

    func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The header's links, the current one marked.
    func nav(_ here: String) -> [[String: Any]] {
        [("Runs", "\(base)/runs"), ("Models", "\(base)/models"), ("Rollouts", "\(base)/rollouts"), ("Monitors", "\(base)/monitors"), ("Jobs", "\(base)/jobs")].map { ["label": $0.0, "href": $0.1, "here": $0.0 == here] }
    }
}

/// A page that is not there: a 404 a person can read.
struct PageNotFound: Error, HTTPResponseError {
    var message: String
    var status: HTTPResponse.Status { .notFound }
    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: .notFound, headers: [.contentType: "text/html; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: "<!doctype html><title>Not found</title><p>\(TextEscaping.xml(message))</p>")))
    }
}

import Foundation
import Hummingbird
import Logging
import MLOpsCore
import MLOpsWeb
import ServiceLifecycle

/// `mlops serve`: the models of a workspace over HTTP, routed by their rollouts, with every
/// prediction recorded and outcomes taken back as feedback.
public struct ModelServer: Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        /// Requests with a larger body are refused with 413.
        public var maxBodyBytes = 1 << 20
        /// Rows a batch predict may hold.
        public var maxBatchRows = 10_000
        public var refreshInterval: Duration = .milliseconds(250)
        public var advanceEvery: Duration = .seconds(10)
        /// Who may call it (a bearer token beyond loopback).
        public var access = AccessPolicy()
        /// How many connections, and how long a request may take to arrive.
        public var connections = ConnectionLimits()
        public init() {}
    }

    public let workspace: Workspace
    public var configuration: Configuration

    public init(workspace: Workspace, configuration: Configuration = .init()) {
        self.workspace = workspace
        self.configuration = configuration
    }

    /// Serves until SIGINT or SIGTERM, then stops accepting, answers what is in flight, writes the
    /// buffered predictions and returns. `onRunning` gets the bound port (useful with port 0).
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        var logger = Logger(label: "mlops.serve")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let store = try Store(path: workspace.storePath, access: .concurrentReaders)
        let metrics = ServerMetrics()
        let catalog = ServingCatalog(store: store, registryDirectory: workspace.registryDirectory, metrics: metrics, logger: logger)
        try catalog.refresh()
        let writer = PredictionWriter(store: store, logger: logger)
        let handlers = ServerHandlers(catalog: catalog, writer: writer, metrics: metrics, store: store, configuration: configuration)
        let router = Router()
        router.add(middleware: BearerTokenMiddleware(policy: configuration.access))
        router.add(middleware: JSONErrorMiddleware())
        handlers.register(on: router)
        MLflowRoutes(store: store, artifactRoot: TrackingServer.artifactRoot(workspace), registryDirectory: workspace.registryDirectory).register(on: router)
        WebView(store: store, workspace: workspace, base: "/ui").register(on: router)
        let refresher = CatalogRefresher(catalog: catalog, controller: RolloutController(store: store),
                                         interval: configuration.refreshInterval, advanceEvery: configuration.advanceEvery)
        let app = Application(
            router: router,
            server: configuration.connections.server(),
            configuration: configuration.connections.configuration(host: configuration.host, port: configuration.port, logger: logger),
            services: [writer, refresher, NotificationSender(store: store, specPath: workspace.specPath, interval: .seconds(1))],
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
        try await app.runService()
    }
}

import NIOCore
import NIOPosix

extension ModelServer {
    /// Makes SwiftNIO's event loops Swift concurrency's global executor. Call from the main
    /// thread before any task starts; returns whether it took.
    @discardableResult
    public static func runTasksOnEventLoops() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}

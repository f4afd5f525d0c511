import Foundation
import Hummingbird
import Logging
import MLOpsCore
import MLOpsWeb
import ServiceLifecycle

/// `mlops server`: MLflow's tracking API (runs, experiments, the registry, the artifact proxy) on
/// the workspace's store, so `MLFLOW_TRACKING_URI=http://…` clients log into the same history as
/// `mlops run`. One process, no Python, ready in milliseconds.
public struct TrackingServer: Sendable {
    public var workspace: Workspace
    public var host: String
    public var port: Int
    /// Who may call it (a bearer token beyond loopback).
    public var access: AccessPolicy
    /// How many connections, and how long a request may take to arrive.
    public var connections: ConnectionLimits

    public init(workspace: Workspace, host: String = "127.0.0.1", port: Int = 5000, access: AccessPolicy = AccessPolicy(),
                connections: ConnectionLimits = ConnectionLimits()) {
        self.workspace = workspace
        self.host = host
        self.port = port
        self.access = access
        self.connections = connections
    }

    /// Where the artifact proxy keeps uploaded files.
    public static func artifactRoot(_ workspace: Workspace) -> String { "\(workspace.experimentsDirectory)/mlflow-artifacts" }

    static func application(store: Store, workspace: Workspace, host: String, port: Int, access: AccessPolicy = AccessPolicy(),
                            connections: ConnectionLimits = ConnectionLimits(), logger: Logger,
                            onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: BearerTokenMiddleware(policy: access))
        MLflowRoutes(store: store, artifactRoot: artifactRoot(workspace), registryDirectory: workspace.registryDirectory).register(on: router)
        WebView(store: store, workspace: workspace).register(on: router)
        router.get("/health") { _, _ in "OK" }
        return Application(
            router: router,
            server: connections.server(),
            configuration: connections.configuration(host: host, port: port, logger: logger),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// Serves until SIGINT or SIGTERM. `onRunning` gets the bound port (useful with port 0).
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        var logger = Logger(label: "mlops.server")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let store = try Store(path: workspace.storePath, access: .concurrentReaders)
        try await Self.application(store: store, workspace: workspace, host: host, port: port, access: access,
                                   connections: connections, logger: logger,
                                   onRunning: onRunning).runService()
    }
}

/// The tracking API inside another command (`mlops run`): on a free loopback port, on the
/// command's own store, for as long as the command runs; `stop()` shuts it down gracefully.
public final class EmbeddedTrackingServer: Sendable {
    public let uri: String
    let group: ServiceGroup
    let task: Task<Void, Never>

    init(uri: String, group: ServiceGroup, task: Task<Void, Never>) {
        self.uri = uri
        self.group = group
        self.task = task
    }

    public static func start(store: Store, workspace: Workspace) async throws -> EmbeddedTrackingServer {
        var logger = Logger(label: "mlops.tracking")
        logger.logLevel = .critical
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = TrackingServer.application(store: store, workspace: workspace, host: "127.0.0.1", port: 0, logger: logger) { port in
            continuation.yield(port)
            continuation.finish()
        }
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let task = Task {
            do { try await group.run() } catch { continuation.finish() }
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            throw TrackingError("could not start the tracking endpoint on 127.0.0.1")
        }
        return EmbeddedTrackingServer(uri: "http://127.0.0.1:\(port)", group: group, task: task)
    }

    public func stop() async {
        await group.triggerGracefulShutdown()
        await task.value
    }

    struct TrackingError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

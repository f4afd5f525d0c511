import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// What one client may hold of a server: how many connections are open at once, and how long a
/// request may take to arrive. Without these a slow client (one byte every few seconds, which an
/// idle timeout never sees) holds a connection for ever, and enough of them hold them all. The
/// defaults follow nginx (`worker_connections`, `client_header_timeout`) and Apache's
/// `mod_reqtimeout` (a body deadline that grows with the bytes received, so a large upload on a
/// slow link still gets through).
public struct ConnectionLimits: Sendable {
    /// Connections open at once; past it, new ones wait in the listen backlog until one closes.
    public var maxConnections = 1024
    /// From the connection's start, or the end of the previous response, to a request's whole head.
    public var headerTimeout: Duration = .seconds(30)
    /// From a request's head to the end of its body, plus `bodyBytesPerSecond`'s allowance.
    public var bodyTimeout: Duration = .seconds(30)
    /// Each this many bytes of body received give the body one more second.
    public var bodyBytesPerSecond = 64 * 1024
    /// Connections with no bytes either way are closed after this.
    public var idleTimeout: Duration = .seconds(30)

    public init() {}

    /// The HTTP/1 channel both servers use, with the deadlines in its pipeline.
    func server() -> HTTPServerBuilder {
        let limits = self
        return .http1(configuration: .init(additionalChannelHandlers: [RequestDeadlineHandler(limits: limits)],
                                           idleTimeout: .nanoseconds(Int64(limits.idleTimeout.nanoseconds))))
    }

    /// The application configuration with the connection ceiling.
    func configuration(host: String, port: Int, logger: Logger) -> ApplicationConfiguration {
        .init(address: .hostname(host, port: port), serverName: "mlops",
              availableConnectionsDelegate: .maximum(maxConnections, logger: logger))
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

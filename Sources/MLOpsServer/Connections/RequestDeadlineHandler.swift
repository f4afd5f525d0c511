import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request does not arrive in time: the head within `headerTimeout` of
/// the connection opening (or of the previous response ending), the body within `bodyTimeout` of
/// the head plus a second for each `bodyBytesPerSecond` received. While a request is being handled
/// no deadline runs: a slow model is the server's business, not the client's.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum Phase {
        case awaitingHead
        case readingBody(started: NIODeadline, bytes: Int)
        case handling
    }

    private let limits: ConnectionLimits
    private var phase = Phase.awaitingHead
    private var timer: Scheduled<Void>?

    init(limits: ConnectionLimits) {
        self.limits = limits
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            phase = .readingBody(started: .now(), bytes: 0)
            arm(context)
        case .body(let chunk):
            // The deadline only grows with bytes; it is re-checked when the timer fires rather than
            // rescheduled on every chunk.
            if case .readingBody(let started, let bytes) = phase {
                phase = .readingBody(started: started, bytes: bytes + chunk.readableBytes)
            }
        case .end:
            phase = .handling
            timer?.cancel()
            timer = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), case .handling = phase {
            phase = .awaitingHead
            arm(context)
        }
        context.write(data, promise: promise)
    }

    /// When a body being read must be complete; only a body's deadline moves.
    private func deadline() -> NIODeadline? {
        guard case .readingBody(let started, let bytes) = phase else { return nil }
        let allowance = Int64(bytes / max(1, limits.bodyBytesPerSecond)) * 1_000_000_000
        return started + .nanoseconds(limits.bodyTimeout.nanoseconds + allowance)
    }

    private func arm(_ context: ChannelHandlerContext) {
        timer?.cancel()
        let delay: TimeAmount
        switch phase {
        case .awaitingHead: delay = .nanoseconds(limits.headerTimeout.nanoseconds)
        case .readingBody: delay = .nanoseconds(limits.bodyTimeout.nanoseconds)
        case .handling: timer = nil; return
        }
        schedule(context, in: delay)
    }

    private func schedule(_ context: ChannelHandlerContext, in delay: TimeAmount) {
        let loop = context.eventLoop.assumeIsolated()
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = loop.scheduleTask(in: delay) {
            let (handler, context) = bound.value
            handler.expire(context)
        }
    }

    /// The timer fired: close, unless bytes received since moved the body's deadline on.
    private func expire(_ context: ChannelHandlerContext) {
        if let later = deadline(), later > .now() {
            schedule(context, in: later - .now())
            return
        }
        switch phase {
        case .handling: return
        case .awaitingHead, .readingBody: context.close(promise: nil)
        }
    }
}

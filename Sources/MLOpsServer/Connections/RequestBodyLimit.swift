import Foundation
import Hummingbird
import HummingbirdCore
import NIOCore

/// How both servers read a request body: up to a limit, and past it the rest is read and dropped
/// (for a while) before the 413 is sent. A client that sends its whole body before it reads
/// (Python's urllib, with `Connection: close`) otherwise never gets to the answer: the server stops
/// reading, the client's send blocks, and the server waits for a close that never comes. nginx's
/// lingering close does the same.
enum RequestBodyLimit {
    /// How much of an oversized body is read and dropped, and for how long, before giving up on it.
    static let drainBytes = 1 << 30
    static let drainTime = Duration.seconds(5)

    /// The body, or nil when it is over `limit` (the rest already drained, within bounds).
    static func collect(_ request: inout Request, limit: Int) async throws -> ByteBuffer? {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            try await drain(request.body, already: 0)
            return nil
        }
        var buffer = ByteBuffer()
        var iterator = request.body.makeAsyncIterator()
        while let chunk = try await iterator.next() {
            guard buffer.readableBytes + chunk.readableBytes <= limit else {
                try await drain(iterator, already: buffer.readableBytes + chunk.readableBytes)
                return nil
            }
            var chunk = chunk
            buffer.writeBuffer(&chunk)
        }
        return buffer
    }

    static func drain(_ body: RequestBody, already: Int) async throws {
        try await drain(body.makeAsyncIterator(), already: already)
    }

    static func drain(_ iterator: RequestBody.AsyncIterator, already: Int) async throws {
        var iterator = iterator
        var read = already
        let deadline = ContinuousClock.now + drainTime
        while read < drainBytes, ContinuousClock.now < deadline, let chunk = try await iterator.next() {
            read += chunk.readableBytes
        }
    }
}

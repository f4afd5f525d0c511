import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One HTTP request and its answer, for the callers that speak to other services: webhooks and the
/// Ray Jobs API. Every request goes through one process-wide AsyncHTTPClient, made on first use, so
/// a command that sends nothing (`mlops --version`) never starts its event loop.
public enum HTTPExchange {
    /// The shared client but for two settings: a refused connection fails the request at once
    /// instead of being retried until the deadline (the callers retry on their own terms, and a
    /// head that is down must be told from one that is slow), and redirects are not followed.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: .seconds(120)))
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// What came back: the status, the headers' values by lowercased name, and the whole body.
    public struct Answer: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: [UInt8]

        public var text: String { String(decoding: body, as: UTF8.self) }
        public var isSuccess: Bool { (200..<300).contains(status) }
    }

    /// Why no answer came: the address is wrong, nothing listens, the connection broke, or the
    /// deadline passed. Its description says which, with the address.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var url: String
        public var reason: String
        public var timedOut: Bool
        public var description: String { "\(url): \(reason)" }
    }

    public enum Method: String, Sendable { case get = "GET", post = "POST", put = "PUT", delete = "DELETE" }

    /// Sends one request and reads the whole answer, at most `maxBody` bytes (more is an error).
    public static func send(_ method: Method, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
                            timeout: Duration, maxBody: Int = 64 << 20) async throws(Failure) -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method.rawValue)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if !request.headers.contains(name: "User-Agent") { request.headers.add(name: "User-Agent", value: "mlops") }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let seconds = max(1, Int64((Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18).rounded(.up)))
        do {
            let response = try await client.execute(request, timeout: .seconds(seconds))
            let bytes = try await response.body.collect(upTo: maxBody)
            var names: [String: String] = [:]
            for header in response.headers { names[header.name.lowercased()] = header.value }
            return Answer(status: Int(response.status.code), headers: names, body: Array(buffer: bytes))
        } catch let error as HTTPClientError {
            let timedOut = error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout
            throw Failure(url: url, reason: timedOut ? "no answer within \(seconds) s" : describe(error), timedOut: timedOut)
        } catch {
            throw Failure(url: url, reason: describe(error), timedOut: false)
        }
    }

    /// NIO's errors name a cause without the words a person looks for ("connection refused").
    static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused (is the server running?)" }
        if text.contains("badURL") || text.contains("invalidURL") { return "not a valid http(s) URL" }
        return text
    }
}

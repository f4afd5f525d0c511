import Foundation
import Hummingbird
import MLOpsText

/// JSON in and out of handlers, and errors as JSON a client can act on.
enum JSONResponse {
    static func ok(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func ok(object: Any, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: JSONWriter.bytes(object))))
    }

    /// A JSON string literal, escaped by the one JSON writer.
    static func quote(_ text: String) -> String { JSONWriter.text(text) }
}

/// A request the server will not answer: the status, what is wrong, and where.
struct APIError: Error, HTTPResponseError {
    var status: HTTPResponse.Status
    var message: String
    var field: String?

    init(_ status: HTTPResponse.Status, _ message: String, field: String? = nil) {
        self.status = status
        self.message = message
        self.field = field
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var object: [String: Any] = ["error": message, "status": Int(status.code)]
        object["field"] = field
        return JSONResponse.ok(object: object, status: status)
    }
}

/// Hummingbird's own errors (no such route, a body over the limit) as JSON too.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            let message = switch error.status {
            case .notFound: "no route \(request.method) \(request.uri.path)"
            case .contentTooLarge: "the body is over the server's limit"
            case .methodNotAllowed: "\(request.method) is not allowed on \(request.uri.path)"
            default: error.body ?? error.status.reasonPhrase
            }
            throw APIError(error.status, message)
        }
    }
}

extension Request {
    /// The body parsed as a JSON object, or a 4xx saying why not.
    mutating func jsonObject(limit: Int) async throws -> [String: Any] {
        guard let buffer = try await RequestBodyLimit.collect(&self, limit: limit) else {
            throw APIError(.contentTooLarge, "the body is over the limit of \(limit) bytes")
        }
        guard buffer.readableBytes > 0 else { throw APIError(.badRequest, "the body is empty; send a JSON object") }
        let object: Any
        do {
            object = try buffer.withUnsafeReadableBytes { bytes throws(JSONBody.SyntaxError) in try JSONBody.parse(bytes) }
        } catch {
            throw APIError(.badRequest, "the body is not valid JSON: \(error.description)")
        }
        guard let dictionary = object as? [String: Any] else { throw APIError(.badRequest, "the body must be a JSON object") }
        return dictionary
    }
}

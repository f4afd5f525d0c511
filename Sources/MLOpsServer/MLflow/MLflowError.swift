import Foundation
import Hummingbird
import MLOpsCore

/// An error as MLflow's server returns it: `{"error_code": ..., "message": ...}` with the status
/// MLflow pairs with that code. Never a 408, 429 or 5xx for a client's mistake: MLflow's client
/// retries those for minutes before it shows anything.
public struct MLflowError: Error, HTTPResponseError, CustomStringConvertible {
    public enum Code: String, Sendable {
        case resourceDoesNotExist = "RESOURCE_DOES_NOT_EXIST"
        case invalidParameterValue = "INVALID_PARAMETER_VALUE"
        case resourceAlreadyExists = "RESOURCE_ALREADY_EXISTS"
        case badRequest = "BAD_REQUEST"
        case endpointNotFound = "ENDPOINT_NOT_FOUND"
        case invalidState = "INVALID_STATE"

        var status: HTTPResponse.Status {
            switch self {
            case .resourceDoesNotExist, .endpointNotFound: .notFound
            case .invalidParameterValue, .resourceAlreadyExists, .badRequest, .invalidState: .badRequest
            }
        }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
    public var status: HTTPResponse.Status { code.status }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONResponse.ok(object: ["error_code": code.rawValue, "message": message], status: status)
    }

    static func missing(_ field: String) -> MLflowError {
        MLflowError(.invalidParameterValue, "Missing value for required parameter '\(field)'. See the API docs for more information about request parameters.")
    }

    static func invalid(_ field: String, _ value: Any, _ why: String) -> MLflowError {
        MLflowError(.invalidParameterValue, "Invalid value \(value) for parameter '\(field)' supplied: \(why)")
    }
}

/// Turns what the routes below `/api/` throw into MLflow's error shape: our own tracking and
/// registry errors, Hummingbird's (no route, body too large) and anything unexpected.
struct MLflowErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as MLflowError {
            throw error
        } catch let error as Tracker.TrackingError {
            throw MLflowError(.invalidParameterValue, error.description)
        } catch let error as ModelRegistry.RegistryError {
            throw MLflowError(.invalidParameterValue, error.description)
        } catch let error as HTTPError {
            switch error.status {
            case .notFound: throw MLflowError(.endpointNotFound, "No API endpoint \(request.method) \(request.uri.path)")
            case .methodNotAllowed: throw MLflowError(.endpointNotFound, "\(request.method) is not allowed on \(request.uri.path)")
            case .contentTooLarge: throw MLflowError(.badRequest, "The request body is over the server's limit")
            default: throw MLflowError(.badRequest, error.body ?? error.status.reasonPhrase)
            }
        } catch let error as APIError {
            throw MLflowError(error.status == .notFound ? .resourceDoesNotExist : .badRequest, error.message)
        } catch {
            // A store error (disk full, a lock held too long) is still answered as a 400 the client
            // shows at once, rather than a 500 it would retry for minutes.
            throw MLflowError(.badRequest, "\(error)")
        }
    }
}

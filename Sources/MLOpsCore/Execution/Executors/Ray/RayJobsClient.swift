import Foundation
import MLOpsHTTP

/// Ray's Jobs REST API, as the dashboard serves it: submit, status, logs, stop, and the package
/// upload that carries a working directory. Each call is one request; the caller decides what to
/// retry. Ray answers errors as plain text, and a duplicate submission id as a 500 that says
/// "already exists".
public struct RayJobsClient: Sendable {
    public var address: String
    /// `Authorization: Bearer …`, when the cluster wants one.
    public var token: String?
    public var timeout: Duration = .seconds(30)

    public init(address: String, token: String? = nil) {
        self.address = address.hasSuffix("/") ? String(address.dropLast()) : address
        self.token = token
    }

    /// What the Jobs API says of one job.
    public struct JobInfo: Sendable, Equatable {
        public var status: RayJobStatus
        public var message: String?
        public var errorType: String?
        public var driverExitCode: Int32?
    }

    /// Why a call did not give an answer it could use.
    public enum Failure: Error, CustomStringConvertible, Sendable, Equatable {
        /// No answer: nothing listens, the connection broke, the deadline passed.
        case unreachable(String)
        /// The head does not know this id (after a restart every old id is gone).
        case notFound
        /// A submission under this id exists already.
        case alreadyExists
        /// Any other answer that is not a success: its status and text.
        case refused(Int, String)
        /// A success whose body is not what the API documents.
        case malformed(String)

        public var description: String {
            switch self {
            case let .unreachable(reason): return "cannot reach the Ray Jobs API at \(reason)"
            case .notFound: return "the Ray head does not know this job (was it restarted?)"
            case .alreadyExists: return "a Ray job with this submission id exists already"
            case let .refused(status, text): return "the Ray Jobs API answered HTTP \(status): \(text.trimmingCharacters(in: .whitespacesAndNewlines).prefix(500))"
            case let .malformed(what): return "the Ray Jobs API gave an answer this mlops cannot read: \(what)"
            }
        }

        /// Whether trying again later may help.
        public var isTransient: Bool {
            switch self {
            case .unreachable: return true
            case let .refused(status, _): return status >= 500 || status == 429
            default: return false
            }
        }
    }

    /// Submits a job; `alreadyExists` when the id is taken (by our own earlier request, when the
    /// answer to it was lost).
    public func submit(_ submission: RaySubmission) async throws(Failure) {
        let answer = try await call(.post, "/api/jobs/", body: submission.json)
        if answer.isSuccess { return }
        if answer.text.contains("already exists") { throw .alreadyExists }
        throw .refused(answer.status, answer.text)
    }

    public func info(_ submissionID: String) async throws(Failure) -> JobInfo {
        let answer = try await call(.get, "/api/jobs/\(Self.escape(submissionID))")
        guard answer.isSuccess else { throw answer.status == 404 ? .notFound : .refused(answer.status, answer.text) }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(answer.body))) as? [String: Any],
              let text = object["status"] as? String else { throw .malformed("no status in \(answer.text.prefix(200))") }
        guard let status = RayJobStatus(rawValue: text) else { throw .malformed("unknown status \(text)") }
        return JobInfo(status: status, message: object["message"] as? String, errorType: object["error_type"] as? String,
                       driverExitCode: (object["driver_exit_code"] as? NSNumber).map { Int32(truncating: $0) })
    }

    /// The job's whole log so far (Ray's REST API has no offset; the caller keeps one).
    public func logs(_ submissionID: String) async throws(Failure) -> [UInt8] {
        let answer = try await call(.get, "/api/jobs/\(Self.escape(submissionID))/logs")
        guard answer.isSuccess else { throw answer.status == 404 ? .notFound : .refused(answer.status, answer.text) }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(answer.body))) as? [String: Any],
              let logs = object["logs"] as? String else { throw .malformed("no logs in the answer") }
        return Array(logs.utf8)
    }

    /// Asks Ray to stop the job (TERM, then KILL 3 s later); true if it was running.
    @discardableResult
    public func stop(_ submissionID: String) async throws(Failure) -> Bool {
        let answer = try await call(.post, "/api/jobs/\(Self.escape(submissionID))/stop")
        guard answer.isSuccess else { throw answer.status == 404 ? .notFound : .refused(answer.status, answer.text) }
        let object = (try? JSONSerialization.jsonObject(with: Data(answer.body))) as? [String: Any]
        return object?["stopped"] as? Bool ?? false
    }

    /// Whether the head has the package `gcs://NAME`.
    public func hasPackage(_ name: String) async -> Bool {
        (try? await call(.get, "/api/packages/gcs/\(name)"))?.isSuccess == true
    }

    /// Uploads a zip as `gcs://NAME`.
    public func upload(package name: String, zip: [UInt8]) async throws(Failure) {
        let answer = try await call(.put, "/api/packages/gcs/\(name)", body: zip, contentType: "application/zip")
        guard answer.isSuccess else { throw .refused(answer.status, answer.text) }
    }

    public func version() async throws(Failure) -> String {
        let answer = try await call(.get, "/api/version")
        guard answer.isSuccess else { throw .refused(answer.status, answer.text) }
        let object = (try? JSONSerialization.jsonObject(with: Data(answer.body))) as? [String: Any]
        return object?["ray_version"] as? String ?? "?"
    }

    func call(_ method: HTTPExchange.Method, _ path: String, body: [UInt8]? = nil,
              contentType: String = "application/json") async throws(Failure) -> HTTPExchange.Answer {
        var headers: [(String, String)] = []
        if body != nil { headers.append(("Content-Type", contentType)) }
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        do {
            return try await HTTPExchange.send(method, address + path, headers: headers, body: body, timeout: timeout)
        } catch {
            throw .unreachable(error.description)
        }
    }

    static func escape(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? id
    }
}

/// A Ray job's states, as the Jobs API names them.
public enum RayJobStatus: String, Sendable, CaseIterable {
    case pending = "PENDING", running = "RUNNING", stopped = "STOPPED", succeeded = "SUCCEEDED", failed = "FAILED"

    public var isTerminal: Bool { self == .stopped || self == .succeeded || self == .failed }
}

/// One job as it is submitted: what to run, under which id, with what environment and resources.
public struct RaySubmission: Sendable {
    public var submissionID: String
    public var entrypoint: String
    public var env: [String: String]
    /// `gcs://_ray_pkg_….zip`, uploaded beforehand.
    public var workingDir: String?
    public var metadata: [String: String]
    public var numCPUs: Double?
    public var numGPUs: Double?
    public var memory: Int64?
    public var resources: [String: Double]

    var json: [UInt8] {
        var object: [String: Any] = ["entrypoint": entrypoint, "submission_id": submissionID, "metadata": metadata]
        var runtime: [String: Any] = ["env_vars": env]
        if let workingDir { runtime["working_dir"] = workingDir }
        object["runtime_env"] = runtime
        if let numCPUs { object["entrypoint_num_cpus"] = numCPUs }
        if let numGPUs { object["entrypoint_num_gpus"] = numGPUs }
        if let memory { object["entrypoint_memory"] = memory }
        if !resources.isEmpty { object["entrypoint_resources"] = resources }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Array(data)
    }
}

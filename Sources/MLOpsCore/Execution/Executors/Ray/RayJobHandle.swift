import Foundation

/// A Ray attempt as the store keeps it (`runs.executor_handle`, JSON): the head that has it, its
/// submission id, the variable that holds the head's token, and how many bytes of its log are
/// already in the stage's log, so a runner that reattaches after a crash continues from there.
public struct RayJobHandle: Sendable, Hashable, Codable {
    public var address: String
    public var submissionID: String
    public var authTokenEnv: String?
    public var logOffset: Int64

    enum CodingKeys: String, CodingKey {
        case address, submissionID = "submission_id", authTokenEnv = "auth_token_env", logOffset = "log_offset"
    }

    public init(address: String, submissionID: String, authTokenEnv: String?, logOffset: Int64 = 0) {
        self.address = address
        self.submissionID = submissionID
        self.authTokenEnv = authTokenEnv
        self.logOffset = logOffset
    }

    public init?(_ handle: AttemptHandle) {
        guard case let .remote(executor, id) = handle, executor == RayExecutor.executorName,
              let decoded = try? JSONDecoder().decode(RayJobHandle.self, from: Data(id.utf8)) else { return nil }
        self = decoded
    }

    public var attemptHandle: AttemptHandle {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let text = (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return .remote(executor: RayExecutor.executorName, id: text)
    }

    /// The client for this job's head, with the token read from its variable now.
    func client(environment: [String: String] = ProcessInfo.processInfo.environment) -> RayJobsClient {
        RayJobsClient(address: address, token: authTokenEnv.flatMap { environment[$0] })
    }

    /// A submission id that names the attempt, so a retry never reuses one and a lost answer to a
    /// submission can be recognised as ours: `mlops-<job run>-<stage>-<attempt>[-<shard>]`.
    public static func submissionID(jobRunID: String, stage: String, attempt: Int, shard: Int? = nil) -> String {
        "mlops-\(jobRunID)-\(stage)-\(attempt)" + (shard.map { "-s\($0)" } ?? "")
    }
}

import Foundation

/// Who may call a server. On loopback (the default) anyone on this machine may, unless a token is
/// set; any other address needs a bearer token (`MLOPS_TOKEN` or `--token-file`), or `--insecure`
/// said on purpose. `/health` and `/ready` stay open for load balancers and probes.
public struct AccessPolicy: Sendable {
    /// The bearer token every other route requires, or nil for none.
    public var token: String?
    /// Bound beyond loopback with no token, because the user said `--insecure`.
    public var insecure: Bool

    /// Paths a probe reads without a token.
    static let openPaths: Set<String> = ["/health", "/ready"]

    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The policy for binding `host`: the token from `tokenFile`, else from `MLOPS_TOKEN`.
    public static func resolve(host: String, tokenFile: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                               insecure: Bool) throws -> AccessPolicy {
        var token: String?
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw Refusal(description: "cannot read the token file \(tokenFile)")
            }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard token?.isEmpty == false else { throw Refusal(description: "the token file \(tokenFile) is empty") }
        } else if let text = environment["MLOPS_TOKEN"], !text.isEmpty {
            token = text
        }
        if token == nil, !isLoopback(host), !insecure {
            throw Refusal(description: """
                refusing to serve on \(host) without a token: anyone who can reach it could read and change the store. \
                Set MLOPS_TOKEN or pass --token-file FILE (clients send it as `Authorization: Bearer TOKEN`; the mlflow \
                client through MLFLOW_TRACKING_TOKEN), bind 127.0.0.1, or pass --insecure if the network is yours alone
                """)
        }
        return AccessPolicy(token: token, insecure: token == nil && !isLoopback(host))
    }

    public init(token: String? = nil, insecure: Bool = false) {
        self.token = token
        self.insecure = insecure
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    /// Whether an `Authorization` header carries the token, compared in constant time.
    func admits(_ authorization: String?) -> Bool {
        guard let token else { return true }
        guard let authorization, authorization.hasPrefix("Bearer ") else { return false }
        return Self.constantTimeEqual(Array(authorization.utf8.dropFirst("Bearer ".utf8.count)), Array(token.utf8))
    }

    /// Every byte is compared whatever the first difference, so the time taken says nothing of
    /// where a guess went wrong (only, at most, whether its length was right).
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}

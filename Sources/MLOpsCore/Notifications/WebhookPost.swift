import Foundation
import MLOpsHTTP

/// A webhook's JSON POST.
enum WebhookPost {
    /// The error, or nil on a 2xx answer.
    static func send(_ url: String, body: String, timeout: SpecDuration) async -> String? {
        do {
            let answer = try await HTTPExchange.send(
                .post, url, headers: [("Content-Type", "application/json"), ("User-Agent", "mlops/\(MLOpsVersion.current)")],
                body: Array(body.utf8), timeout: timeout.duration, maxBody: 1 << 20)
            return answer.isSuccess ? nil : "HTTP \(answer.status)"
        } catch {
            return error.reason
        }
    }
}

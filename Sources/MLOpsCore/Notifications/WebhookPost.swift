import CCurl
import Foundation

/// A webhook's JSON POST, through libcurl loaded on first use (CCurl): FoundationNetworking would
/// link libcurl and its TLS stack into every start of the binary, webhook or not.
enum WebhookPost {
    /// The error, or nil on a 2xx answer. Runs on a worker thread: libcurl blocks.
    static func send(_ url: String, body: String, timeout: SpecDuration) async -> String? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let headers = ["Content-Type: application/json", "User-Agent: mlops/\(MLOpsVersion.current)"]
                var error = [CChar](repeating: 0, count: 512)
                let body = Array(body.utf8)
                let status = withArrayOfCStrings(headers) { headerPointers in
                    body.withUnsafeBufferPointer { bytes in
                        bytes.withMemoryRebound(to: CChar.self) { chars in
                            mlops_http_post(url, chars.baseAddress, chars.count, headerPointers, Int32(headers.count),
                                            max(1, Int(timeout.seconds * 1000)), &error, error.count)
                        }
                    }
                }
                continuation.resume(returning: status < 0 ? String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    : (200..<300).contains(status) ? nil : "HTTP \(status)")
            }
        }
    }
}

/// C strings for a C array argument, alive for the call.
func withArrayOfCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { UnsafePointer<CChar>($0) }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

import Crypto
import Foundation

/// Hex sha256, the form recorded in the store for specs and model files.
public enum SHA256Digest {
    public static func hex(of data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}

import Foundation

/// Writes a handler's result (a tree of `[String: Any]`, arrays, strings, numbers, booleans) as
/// JSON bytes, keys sorted so that answers are stable. Foundation's JSONSerialization bridged
/// every container to NSDictionary and NSArray and sorted keys with a locale-aware NSString
/// comparison: 80% of the server's time answering a search of 1,000 runs (`bench/run-mlflow`).
enum JSONWriter {
    static func bytes(_ value: Any) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        append(value, to: &out)
        return out
    }

    /// The common shapes first, each a direct cast: a cast to a class (NSNull, NSNumber) would
    /// bridge a Swift container to Foundation to answer it.
    static func append(_ value: Any, to out: inout [UInt8]) {
        switch value {
        case let string as String: append(string: string, to: &out)
        case let object as [String: Any]: append(object: object, to: &out)
        case let objects as [[String: Any]]: append(array: objects, to: &out)
        case let pairs as [[String: String]]: append(array: pairs, to: &out)
        case let strings as [String]: append(array: strings, to: &out)
        case let list as [Any]: append(array: list, to: &out)
        case let object as [String: String]: append(object: object, to: &out)
        case let number as Int64: out.append(contentsOf: String(number).utf8)
        case let number as Int: out.append(contentsOf: String(number).utf8)
        case let number as Int32: out.append(contentsOf: String(number).utf8)
        case let number as Double: append(double: number, to: &out)
        case let flag as Bool: out.append(contentsOf: (flag ? "true" : "false").utf8)
        default:
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .optional {
                if let wrapped = mirror.children.first { append(wrapped.value, to: &out) } else { out.append(contentsOf: "null".utf8) }
            } else if type(of: value) == NSNull.self {
                out.append(contentsOf: "null".utf8)
            } else if let number = value as? NSNumber {
                append(double: number.doubleValue, to: &out)
            } else {
                append(string: "\(value)", to: &out)
            }
        }
    }

    static func append(object: [String: some Any], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        var first = true
        for key in object.keys.sorted() {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            append(string: key, to: &out)
            out.append(UInt8(ascii: ":"))
            append(object[key]!, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    static func append(array: [some Any], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (i, element) in array.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            append(element, to: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// Whole numbers without a fraction (as int64 fields are read); JSON has no NaN or infinity.
    static func append(double: Double, to out: inout [UInt8]) {
        guard double.isFinite else { out.append(contentsOf: "null".utf8); return }
        if double == double.rounded(), abs(double) < 1e15 {
            out.append(contentsOf: String(Int64(double)).utf8)
        } else {
            out.append(contentsOf: String(double).utf8)
        }
    }

    static func append(string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case ..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

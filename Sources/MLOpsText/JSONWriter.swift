import Foundation

/// Writes a handler's result (a tree of `[String: Any]`, arrays, strings, numbers, booleans) as
/// JSON bytes, keys sorted so that answers are stable. Foundation's JSONSerialization bridged
/// every container to NSDictionary and NSArray and sorted keys with a locale-aware NSString
/// comparison: 80% of the server's time answering a search of 1,000 runs (`bench/run-mlflow`).
public enum JSONWriter {
    @inlinable
    public static func bytes(_ value: Any) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        append(value, to: &out)
        return out
    }

    /// Dispatched on the value's exact type, then on conformance: a cast such as
    /// `as? [String: Any]` converts a `[String: String]` element by element, and a cast to a class
    /// (NSNull, NSNumber) bridges a Swift container to Foundation to answer it.
    @inlinable
    public static func append(_ value: Any, to out: inout [UInt8]) {
        let type = type(of: value)
        if type == String.self { append(string: value as! String, to: &out) }
        else if type == Int64.self { out.append(contentsOf: String(value as! Int64).utf8) }
        else if type == Double.self { append(double: value as! Double, to: &out) }
        else if type == RawJSON.self { out += (value as! RawJSON).bytes }
        else if type == [String: Any].self { append(object: value as! [String: Any], to: &out) }
        else if type == [[String: Any]].self { append(array: value as! [[String: Any]], to: &out) }
        else if type == [[String: String]].self { append(array: value as! [[String: String]], to: &out) }
        else if type == [String: String].self { append(object: value as! [String: String], to: &out) }
        else if type == [String].self { append(array: value as! [String], to: &out) }
        else if type == [Any].self { append(array: value as! [Any], to: &out) }
        else if let container = value as? any JSONContainer { container.appendJSON(to: &out) }
        else if type == Int.self { out.append(contentsOf: String(value as! Int).utf8) }
        else if type == Bool.self { out.append(contentsOf: ((value as! Bool) ? "true" : "false").utf8) }
        else if type == NSNull.self { out.append(contentsOf: "null".utf8) }
        else if let number = value as? any BinaryInteger { out.append(contentsOf: "\(number)".utf8) }
        else {
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .optional {
                if let wrapped = mirror.children.first { append(wrapped.value, to: &out) } else { out.append(contentsOf: "null".utf8) }
            } else if let number = value as? NSNumber {
                append(double: number.doubleValue, to: &out)
            } else {
                append(string: "\(value)", to: &out)
            }
        }
    }

    @inlinable
    public static func append(object: [String: some Any], to out: inout [UInt8]) {
        append(members: object.map { ($0.key, $0.value as Any) }, to: &out)
    }

    /// An object's members, written in key order.
    @inlinable
    public static func append(members: [(String, Any)], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (i, member) in members.sorted(by: { $0.0 < $1.0 }).enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            append(string: member.0, to: &out)
            out.append(UInt8(ascii: ":"))
            append(member.1, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    @inlinable
    public static func append(array: [some Any], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        var first = true
        for element in array {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            append(element as Any, to: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// Whole numbers without a fraction (as int64 fields are read); JSON has no NaN or infinity.
    @inlinable
    public static func append(double: Double, to out: inout [UInt8]) {
        guard double.isFinite else { out.append(contentsOf: "null".utf8); return }
        if double == double.rounded(), abs(double) < 1e15 {
            out.append(contentsOf: String(Int64(double)).utf8)
        } else {
            out.append(contentsOf: String(double).utf8)
        }
    }

    @inlinable
    public static func append(string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings (ids, keys, names) need no escape: copied whole.
        if !string.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(contentsOf: string.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
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

/// Arrays and string-keyed dictionaries of any element type, found by one conformance check.
public protocol JSONContainer {
    func appendJSON(to out: inout [UInt8])
}

extension Array: JSONContainer {
    public func appendJSON(to out: inout [UInt8]) { JSONWriter.append(array: self, to: &out) }
}

extension Dictionary: JSONContainer where Key == String {
    public func appendJSON(to out: inout [UInt8]) { JSONWriter.append(object: self, to: &out) }
}

extension JSONWriter {
    /// `value` as JSON text: compact, or indented by two spaces per level for a person to read
    /// (`--json`, a stage's metrics.json). Keys are sorted either way, so output diffs well.
    public static func text(_ value: Any, pretty: Bool = false) -> String {
        let compact = bytes(value)
        return String(decoding: pretty ? indented(compact) : compact, as: UTF8.self)
    }

    /// Compact JSON re-laid out one member or element a line; an empty container stays `{}`/`[]`.
    static func indented(_ json: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(json.count * 2)
        var depth = 0, inString = false, escaped = false
        func newline() {
            out.append(0x0A)
            out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * 2))
        }
        for (i, byte) in json.enumerated() {
            if inString {
                out.append(byte)
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                out.append(byte)
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                out.append(byte)
                let closing = byte == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if i + 1 < json.count, json[i + 1] == closing { continue }
                depth += 1
                newline()
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                // Right after its opener (compact JSON has no spaces), the container is empty.
                if json[i - 1] != UInt8(ascii: "{"), json[i - 1] != UInt8(ascii: "[") {
                    depth -= 1
                    newline()
                }
                out.append(byte)
            case UInt8(ascii: ","):
                out.append(byte)
                newline()
            case UInt8(ascii: ":"):
                out.append(contentsOf: [byte, UInt8(ascii: " ")])
            default:
                out.append(byte)
            }
        }
        return out
    }
}

import Foundation

/// Reads a request body's JSON straight into Swift values (`[String: Any]`, `[Any]`, `String`,
/// `Double`, `Bool`, `NSNull`). Foundation's JSONSerialization was the largest single cost of a
/// predict request (9% of the server's CPU under load, `bench/run-serve`): it builds Objective-C
/// style containers that are then bridged. Errors give the byte offset.
public enum JSONBody {
    public struct SyntaxError: Error, CustomStringConvertible {
        public var offset: Int
        public var message: String
        public var description: String { "\(message) at byte \(offset)" }
    }

    public static let maxDepth = 64

    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(SyntaxError) -> Any {
        var reader = Reader(bytes: bytes)
        reader.skipSpace()
        let value = try reader.value(depth: 0)
        reader.skipSpace()
        guard reader.at == bytes.count else { throw SyntaxError(offset: reader.at, message: "unexpected text after the JSON value") }
        return value
    }

    /// JSON kept as text (a stored body): parsed in place.
    public static func parse(_ text: String) throws(SyntaxError) -> Any {
        var text = text
        let result: Result<Any, SyntaxError> = text.withUTF8 { bytes in
            do throws(SyntaxError) { return .success(try parse(UnsafeRawBufferPointer(bytes))) } catch { return .failure(error) }
        }
        return try result.get()
    }

    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var at = 0

        mutating func skipSpace() {
            while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x0D || bytes[at] == 0x09 { at += 1 }
        }

        func fail(_ message: String) -> SyntaxError { SyntaxError(offset: at, message: message) }

        mutating func value(depth: Int) throws(SyntaxError) -> Any {
            guard depth < JSONBody.maxDepth else { throw fail("nested deeper than \(JSONBody.maxDepth) levels") }
            guard at < bytes.count else { throw fail("unexpected end of the body") }
            switch bytes[at] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return try string()
            case UInt8(ascii: "t"): try literal("true"); return true
            case UInt8(ascii: "f"): try literal("false"); return false
            case UInt8(ascii: "n"): try literal("null"); return NSNull()
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw fail("unexpected character '\(Character(Unicode.Scalar(bytes[at])))'")
            }
        }

        mutating func literal(_ word: StaticString) throws(SyntaxError) {
            let length = word.utf8CodeUnitCount
            guard at + length <= bytes.count, memcmp(bytes.baseAddress! + at, word.utf8Start, length) == 0 else {
                throw fail("expected \(word)")
            }
            at += length
        }

        mutating func object(depth: Int) throws(SyntaxError) -> [String: Any] {
            at += 1
            var result: [String: Any] = [:]
            skipSpace()
            if at < bytes.count, bytes[at] == UInt8(ascii: "}") { at += 1; return result }
            while true {
                skipSpace()
                guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw fail("expected a key in quotes") }
                let key = try string()
                skipSpace()
                guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { throw fail("expected ':' after a key") }
                at += 1
                skipSpace()
                result[key] = try value(depth: depth + 1)
                skipSpace()
                guard at < bytes.count else { throw fail("unexpected end of the body inside an object") }
                if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                if bytes[at] == UInt8(ascii: "}") { at += 1; return result }
                throw fail("expected ',' or '}'")
            }
        }

        mutating func array(depth: Int) throws(SyntaxError) -> [Any] {
            at += 1
            var result: [Any] = []
            skipSpace()
            if at < bytes.count, bytes[at] == UInt8(ascii: "]") { at += 1; return result }
            while true {
                skipSpace()
                result.append(try value(depth: depth + 1))
                skipSpace()
                guard at < bytes.count else { throw fail("unexpected end of the body inside a list") }
                if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                if bytes[at] == UInt8(ascii: "]") { at += 1; return result }
                throw fail("expected ',' or ']'")
            }
        }

        mutating func string() throws(SyntaxError) -> String {
            at += 1
            let start = at
            while at < bytes.count, bytes[at] != UInt8(ascii: "\""), bytes[at] != UInt8(ascii: "\\"), bytes[at] >= 0x20 { at += 1 }
            guard at < bytes.count else { throw fail("unterminated string") }
            if bytes[at] == UInt8(ascii: "\"") {
                defer { at += 1 }
                return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
            }
            var out = Array(bytes[start..<at])
            while at < bytes.count {
                let byte = bytes[at]
                if byte == UInt8(ascii: "\"") { at += 1; return String(decoding: out, as: UTF8.self) }
                if byte < 0x20 { throw fail("a control character inside a string") }
                if byte != UInt8(ascii: "\\") { out.append(byte); at += 1; continue }
                at += 1
                guard at < bytes.count else { break }
                switch bytes[at] {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard at + 2 < bytes.count, bytes[at + 1] == UInt8(ascii: "\\"), bytes[at + 2] == UInt8(ascii: "u") else {
                            throw fail("a lone surrogate in \\u escape")
                        }
                        at += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("a lone surrogate in \\u escape") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw fail("an invalid \\u escape") }
                    out.append(contentsOf: Array(String(Character(unicode)).utf8))
                default: throw fail("an invalid escape")
                }
                at += 1
            }
            throw fail("unterminated string")
        }

        /// The four hex digits after `\u` (at points at the `u`); leaves `at` on the last digit.
        mutating func hex4() throws(SyntaxError) -> UInt32 {
            guard at + 4 < bytes.count else { throw fail("a short \\u escape") }
            var value: UInt32 = 0
            for i in 1...4 {
                let c = bytes[at + i]
                let digit: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
                default: throw fail("a bad hex digit in a \\u escape")
                }
                value = value << 4 | UInt32(digit)
            }
            at += 4
            return value
        }

        mutating func number() throws(SyntaxError) -> Double {
            let start = at
            if bytes[at] == UInt8(ascii: "-") { at += 1 }
            let digitsStart = at
            while at < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at]) { at += 1 }
            guard at > digitsStart else { throw fail("a number needs digits") }
            if bytes[digitsStart] == UInt8(ascii: "0"), at - digitsStart > 1 { throw fail("a number may not start with 0") }
            if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
                at += 1
                let fraction = at
                while at < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at]) { at += 1 }
                guard at > fraction else { throw fail("a number needs digits after '.'") }
            }
            if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
                at += 1
                if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
                let exponent = at
                while at < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at]) { at += 1 }
                guard at > exponent else { throw fail("a number needs digits in its exponent") }
            }
            let length = at - start
            // The text is a valid JSON number now; strtod reads it exactly (C locale).
            return withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { buffer in
                for i in 0..<length { buffer[i] = CChar(bitPattern: bytes[start + i]) }
                buffer[length] = 0
                return strtod(buffer.baseAddress!, nil)
            }
        }
    }
}

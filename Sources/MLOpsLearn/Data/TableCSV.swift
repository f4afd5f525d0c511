import Foundation

/// Tables to and from CSV: a header row, then one row a record; RFC 4180 quoting. Column types are
/// declared or inferred (numeric when every non-empty value is a number); an empty numeric cell is
/// a missing value. Errors name the line and the column.
public enum TableCSV {
    public enum ColumnType: String, Sendable, Codable, CaseIterable {
        case numeric
        case categorical
    }

    public struct ParseError: Error, Sendable, CustomStringConvertible, Equatable {
        public var line: Int
        public var column: String?
        public var message: String

        public var description: String {
            "line \(line)\(column.map { ", column '\($0)'" } ?? ""): \(message)"
        }
    }

    /// Reads CSV text. `types` declares some columns; `required` names columns that must exist.
    /// Parsed on bytes in one pass: a number never becomes a String on its way to a Double.
    public static func read(_ data: Data, types: [String: ColumnType] = [:], required: [String] = []) throws(ParseError) -> Table {
        let result: Result<Table, ParseError> = data.withUnsafeBytes { raw in
            Result { () throws(ParseError) -> Table in try read(bytes: raw.bindMemory(to: UInt8.self), types: types, required: required) }
        }
        return try result.get()
    }

    static func read(bytes: UnsafeBufferPointer<UInt8>, types: [String: ColumnType], required: [String]) throws(ParseError) -> Table {
        var cursor = Cursor(bytes: bytes)
        var header: [Field] = []
        guard try cursor.record(into: &header), !(header.count == 1 && header[0].isEmpty) else {
            throw ParseError(line: 1, column: nil, message: "the file is empty; it needs a header row")
        }
        let names = header.map { cursor.text($0) }
        var seen = Set<String>()
        for name in names {
            if name.isEmpty { throw ParseError(line: 1, column: nil, message: "a column has no name") }
            if !seen.insert(name).inserted { throw ParseError(line: 1, column: name, message: "the column appears twice") }
        }
        for name in required where !seen.contains(name) {
            throw ParseError(line: 1, column: name, message: "the required column is missing (columns: \(names.joined(separator: ", ")))")
        }
        for name in types.keys where !seen.contains(name) {
            throw ParseError(line: 1, column: name, message: "a declared column is missing")
        }
        let bodyStart = cursor.position, bodyLine = cursor.line
        var numeric = names.map { types[$0] != .categorical }
        let body = UnsafeBufferPointer(rebasing: bytes[bodyStart...])
        // Large files without quotes: every newline ends a record, so the body splits into one chunk
        // per core. Column types are settled on a sample first; if a chunk still finds text in a
        // column the sample called numeric, the sequential parse below decides.
        let chunks = ProcessInfo.processInfo.activeProcessorCount
        let quoted = body.contains(UInt8(ascii: "\""))
        if chunks > 1, body.count > 4 << 20, !quoted {
            var sampleEnd = 0, sampleLines = 0
            while sampleEnd < body.count, sampleLines < 1000 {
                if body[sampleEnd] == 10 { sampleLines += 1 }
                sampleEnd += 1
            }
            while try parseRecords(UnsafeBufferPointer(rebasing: body[0..<sampleEnd]), quoted: false, firstLine: bodyLine, names: names,
                                   types: types, numeric: &numeric) == nil {}
            var bounds = [0]
            for k in 1..<chunks {
                var cut = body.count * k / chunks
                while cut < body.count, body[cut - 1] != 10 { cut += 1 }
                bounds.append(max(cut, bounds.last!))
            }
            bounds.append(body.count)
            var firstLines = [bodyLine]
            for k in 1..<chunks { firstLines.append(firstLines[k - 1] + newlines(in: UnsafeBufferPointer(rebasing: body[bounds[k - 1]..<bounds[k]]))) }
            let results = UnsafeMutableBufferPointer<Result<Columns?, ParseError>>.allocate(capacity: chunks)
            results.initialize(repeating: .success(nil))
            defer { results.deinitialize().deallocate() }
            nonisolated(unsafe) let out = results, shared = body
            let fixed = numeric, cuts = bounds, lines = firstLines
            DispatchQueue.concurrentPerform(iterations: chunks) { k in
                var flags = fixed
                out[k] = Result { () throws(ParseError) -> Columns? in
                    try parseRecords(UnsafeBufferPointer(rebasing: shared[cuts[k]..<cuts[k + 1]]), quoted: false, firstLine: lines[k],
                                     names: names, types: types, numeric: &flags)
                }
            }
            var parts: [Columns] = []
            for k in 0..<chunks {
                if let part = try results[k].get() { parts.append(part) }
            }
            if parts.count == chunks {
                var table = Table()
                for (i, name) in names.enumerated() {
                    table.append(name, numeric[i] ? .numeric(parts.flatMap { $0.numbers[i] }) : .categorical(parts.flatMap { $0.texts[i] }))
                }
                return table
            }
        }
        var columns: Columns?
        repeat {
            columns = try parseRecords(body, quoted: quoted, firstLine: bodyLine, names: names, types: types, numeric: &numeric)
        } while columns == nil
        var table = Table()
        for (i, name) in names.enumerated() {
            table.append(name, numeric[i] ? .numeric(columns!.numbers[i]) : .categorical(columns!.texts[i]))
        }
        return table
    }

    static func newlines(in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var count = 0
        for byte in bytes where byte == 10 { count += 1 }
        return count
    }

    struct Columns {
        var numbers: [[Double]]
        var texts: [[String]]
    }

    /// Parses the records of `body` (`quoted`: whether it holds a quote anywhere, as the caller's one
    /// scan found). An undeclared column that meets text becomes categorical and the result is nil:
    /// the caller parses again with the new types, or gives up on a split.
    static func parseRecords(_ body: UnsafeBufferPointer<UInt8>, quoted: Bool, firstLine: Int, names: [String], types: [String: ColumnType],
                             numeric: inout [Bool]) throws(ParseError) -> Columns? {
        if !quoted {
            return try parseUnquoted(body, firstLine: firstLine, names: names, types: types, numeric: &numeric)
        }
        return try parseQuoted(body, firstLine: firstLine, names: names, types: types, numeric: &numeric)
    }

    /// The common case, no quote anywhere: each field is converted the moment its end is found,
    /// with no list of fields in between.
    static func parseUnquoted(_ body: UnsafeBufferPointer<UInt8>, firstLine: Int, names: [String], types: [String: ColumnType],
                              numeric: inout [Bool]) throws(ParseError) -> Columns? {
        let cursor = Cursor(bytes: body)
        let columns = names.count
        let expectedRows = newlines(in: body) + 1
        let buffers = numeric.map { $0 ? UnsafeMutableBufferPointer<Double>.allocate(capacity: expectedRows) : UnsafeMutableBufferPointer<Double>(start: nil, count: 0) }
        defer { buffers.forEach { $0.deallocate() } }
        var texts = names.map { _ in [String]() }
        var rows = 0
        var line = firstLine
        var position = 0
        let end = body.count
        func fieldCount(from start: Int) -> Int {
            var count = 1, i = start
            while i < end, body[i] != 10 { if body[i] == UInt8(ascii: ",") { count += 1 }; i += 1 }
            return count
        }
        while position < end {
            let lineStart = position
            // A blank line (or one holding only a carriage return) is skipped.
            if body[position] == 10 || (body[position] == 13 && (position + 1 == end || body[position + 1] == 10)) {
                position += body[position] == 10 ? 1 : 2
                line += 1
                continue
            }
            for i in 0..<columns {
                let start = position
                while position < end, body[position] != UInt8(ascii: ","), body[position] != 10 { position += 1 }
                var fieldEnd = position
                if fieldEnd > start, body[fieldEnd - 1] == 13 { fieldEnd -= 1 }
                let atLineEnd = position >= end || body[position] == 10
                if atLineEnd != (i == columns - 1) {
                    throw ParseError(line: line, column: nil, message: "\(fieldCount(from: lineStart)) fields, the header has \(columns)")
                }
                let field = Field(start: start, end: fieldEnd, escapedQuotes: false)
                if numeric[i] {
                    if let value = cursor.number(field) {
                        buffers[i][rows] = value
                    } else if types[names[i]] == .numeric {
                        throw ParseError(line: line, column: names[i], message: "'\(cursor.text(field))' is not a number")
                    } else {
                        numeric[i] = false
                        return nil
                    }
                } else {
                    texts[i].append(cursor.text(field))
                }
                position += 1  // past the comma or the newline
            }
            line += 1
            rows += 1
        }
        return Columns(numbers: buffers.map { Array(UnsafeBufferPointer(rebasing: $0[0..<($0.baseAddress == nil ? 0 : rows)])) }, texts: texts)
    }

    static func parseQuoted(_ body: UnsafeBufferPointer<UInt8>, firstLine: Int, names: [String], types: [String: ColumnType],
                            numeric: inout [Bool]) throws(ParseError) -> Columns? {
        var cursor = Cursor(bytes: body)
        cursor.line = firstLine
        let expectedRows = newlines(in: body) + 1
        let buffers = numeric.map { $0 ? UnsafeMutableBufferPointer<Double>.allocate(capacity: expectedRows) : UnsafeMutableBufferPointer<Double>(start: nil, count: 0) }
        defer { buffers.forEach { $0.deallocate() } }
        var texts = names.map { _ in [String]() }
        var record: [Field] = []
        record.reserveCapacity(names.count)
        var rows = 0
        while try cursor.record(into: &record) {
            if record.count == 1, record[0].isEmpty { continue }
            // Records end at newlines, so there are at most `expectedRows`; checked, not assumed,
            // since the buffers below are written without bounds checks.
            guard rows < expectedRows else {
                throw ParseError(line: cursor.recordLine, column: nil, message: "more records than lines; a carriage return may end a line on its own")
            }
            guard record.count == names.count else {
                throw ParseError(line: cursor.recordLine, column: nil, message: "\(record.count) fields, the header has \(names.count)")
            }
            for i in 0..<record.count {
                let field = record[i]
                if numeric[i] {
                    if let value = cursor.number(field) {
                        buffers[i][rows] = value
                    } else if types[names[i]] == .numeric {
                        throw ParseError(line: cursor.recordLine, column: names[i], message: "'\(cursor.text(field))' is not a number")
                    } else {
                        numeric[i] = false
                        return nil
                    }
                } else {
                    texts[i].append(cursor.text(field))
                }
            }
            rows += 1
        }
        return Columns(numbers: buffers.map { Array(UnsafeBufferPointer(rebasing: $0[0..<($0.baseAddress == nil ? 0 : rows)])) }, texts: texts)
    }

    /// A field's bytes (without its quotes), and whether it holds doubled quotes to undo.
    struct Field {
        var start: Int
        var end: Int
        var escapedQuotes: Bool
        var isEmpty: Bool { start == end }
    }

    /// Walks the bytes record by record, counting lines for error messages.
    struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0
        var line = 1
        var recordLine = 1

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        /// Reads the next record's fields into `fields`; false at the end of the input.
        mutating func record(into fields: inout [Field]) throws(ParseError) -> Bool {
            let end = bytes.count
            fields.removeAll(keepingCapacity: true)
            guard position < end else { return false }
            recordLine = line
            while true {
                if position < end, bytes[position] == UInt8(ascii: "\"") {
                    let start = position + 1
                    var i = start
                    var escaped = false
                    while true {
                        guard i < end else { throw ParseError(line: recordLine, column: nil, message: "a quoted field is not closed") }
                        if bytes[i] == UInt8(ascii: "\"") {
                            if i + 1 < end, bytes[i + 1] == UInt8(ascii: "\"") { escaped = true; i += 2; continue }
                            break
                        }
                        if bytes[i] == 10 { line += 1 }
                        i += 1
                    }
                    fields.append(Field(start: start, end: i, escapedQuotes: escaped))
                    position = i + 1
                    // A record ends at a newline (or CRLF); a lone carriage return is not a line end here
                    // any more than in an unquoted field.
                    let lineEnd = position < end && (bytes[position] == 10 || (bytes[position] == 13 && (position + 1 == end || bytes[position + 1] == 10)))
                    guard position >= end || bytes[position] == UInt8(ascii: ",") || lineEnd else {
                        throw ParseError(line: line, column: nil, message: "text after a closing quote; quote the whole field and double the quote")
                    }
                } else {
                    let start = position
                    while position < end, bytes[position] != UInt8(ascii: ","), bytes[position] != 10 {
                        if bytes[position] == UInt8(ascii: "\"") {
                            throw ParseError(line: line, column: nil, message: "a quote in the middle of an unquoted field; quote the whole field and double the quote")
                        }
                        position += 1
                    }
                    var fieldEnd = position
                    if fieldEnd > start, bytes[fieldEnd - 1] == 13 { fieldEnd -= 1 }
                    fields.append(Field(start: start, end: fieldEnd, escapedQuotes: false))
                }
                if position < end, bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                if position < end, bytes[position] == 13 { position += 1 }
                if position < end, bytes[position] == 10 { position += 1; line += 1 }
                return true
            }
        }

        func text(_ field: Field) -> String {
            let raw = String(decoding: UnsafeBufferPointer(rebasing: bytes[field.start..<field.end]), as: UTF8.self)
            return field.escapedQuotes ? raw.replacingOccurrences(of: "\"\"", with: "\"") : raw
        }

        /// 10^n for 0 ≤ n ≤ 22, each exact in a Double.
        @inline(__always)
        static func power(_ n: Int) -> Double {
            switch n {
            case 0: return 1e0
            case 1: return 1e1
            case 2: return 1e2
            case 3: return 1e3
            case 4: return 1e4
            case 5: return 1e5
            case 6: return 1e6
            case 7: return 1e7
            case 8: return 1e8
            case 9: return 1e9
            case 10: return 1e10
            case 11: return 1e11
            case 12: return 1e12
            case 13: return 1e13
            case 14: return 1e14
            case 15: return 1e15
            case 16: return 1e16
            case 17: return 1e17
            case 18: return 1e18
            case 19: return 1e19
            case 20: return 1e20
            case 21: return 1e21
            case 22: return 1e22
            default: return pow(10, Double(n))
            }
        }

        /// The field as a number (an empty field is a missing one), or nil when it is not one.
        /// Decimals whose digits fit in 53 bits with a power of ten up to 22 are converted exactly
        /// in place (Clinger's fast path); anything else goes through strtod.
        func number(_ field: Field) -> Double? {
            var i = field.start, end = field.end
            while i < end, bytes[i] == 32 { i += 1 }
            while end > i, bytes[end - 1] == 32 { end -= 1 }
            if i == end { return .nan }
            let first = i
            var negative = false
            if bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") { negative = bytes[i] == UInt8(ascii: "-"); i += 1 }
            var mantissa: UInt64 = 0, digits = 0, scale = 0
            var sawDigit = false, sawDot = false
            while i < end {
                let b = bytes[i]
                if b >= 48 && b <= 57 {
                    sawDigit = true
                    if digits < 19 {
                        mantissa = mantissa * 10 + UInt64(b - 48)
                        if mantissa != 0 { digits += 1 }
                        if sawDot { scale -= 1 }
                    } else if !sawDot {
                        scale += 1
                    }
                } else if b == UInt8(ascii: "."), !sawDot {
                    sawDot = true
                } else {
                    break
                }
                i += 1
            }
            guard sawDigit else { return slow(first, end) }
            if i < end, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                i += 1
                var expNegative = false
                if i < end, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") { expNegative = bytes[i] == UInt8(ascii: "-"); i += 1 }
                var exponent = 0, expDigits = 0
                while i < end, bytes[i] >= 48, bytes[i] <= 57, expDigits < 6 { exponent = exponent * 10 + Int(bytes[i] - 48); i += 1; expDigits += 1 }
                guard expDigits > 0 else { return nil }
                scale += expNegative ? -exponent : exponent
            }
            guard i == end else { return nil }
            if digits <= 15, mantissa < (1 << 53), abs(scale) <= 22 {
                let value = scale >= 0 ? Double(mantissa) * Self.power(scale) : Double(mantissa) / Self.power(-scale)
                return negative ? -value : value
            }
            return slow(first, end)
        }

        /// strtod for what the fast path does not cover, on a terminated copy of the field; the
        /// whole field must be consumed.
        func slow(_ start: Int, _ end: Int) -> Double? {
            var copy = [CChar](repeating: 0, count: end - start + 1)
            for i in start..<end { copy[i - start] = CChar(bitPattern: bytes[i]) }
            return copy.withUnsafeMutableBufferPointer { buffer in
                var stop: UnsafeMutablePointer<CChar>?
                let value = strtod(buffer.baseAddress!, &stop)
                guard let stop, stop == buffer.baseAddress! + (end - start) else { return nil }
                return value
            }
        }
    }

    /// Writes `table` as CSV: numbers in their shortest exact form (whole numbers without a
    /// fraction), a missing number as an empty cell, text quoted when it must be.
    public static func write(_ table: Table) -> Data {
        // Bytes, not a String: appending 40,000 rows to a String costs several times the formatting.
        var out: [UInt8] = []
        out.reserveCapacity((table.rowCount + 1) * max(1, table.names.count) * 10)
        for (i, name) in table.names.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            appendQuoted(name, to: &out)
        }
        out.append(UInt8(ascii: "\n"))
        for r in 0..<table.rowCount {
            for (i, column) in table.columns.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                switch column {
                case let .numeric(values): out.append(contentsOf: format(values[r]).utf8)
                case let .categorical(values): appendQuoted(values[r], to: &out)
                }
            }
            out.append(UInt8(ascii: "\n"))
        }
        return Data(out)
    }

    static func appendQuoted(_ text: String, to out: inout [UInt8]) {
        let utf8 = text.utf8
        guard utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }) else {
            out.append(contentsOf: utf8)
            return
        }
        out.append(UInt8(ascii: "\""))
        for byte in utf8 {
            if byte == UInt8(ascii: "\"") { out.append(byte) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
    }

    public static func format(_ value: Double) -> String {
        if value.isNaN { return "" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}

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
    public static func read(_ data: Data, types: [String: ColumnType] = [:], required: [String] = []) throws(ParseError) -> Table {
        let records = try split(data)
        guard let header = records.first else { throw ParseError(line: 1, column: nil, message: "the file is empty; it needs a header row") }
        var seen = Set<String>()
        for name in header.fields {
            if name.isEmpty { throw ParseError(line: 1, column: nil, message: "a column has no name") }
            if !seen.insert(name).inserted { throw ParseError(line: 1, column: name, message: "the column appears twice") }
        }
        for name in required where !seen.contains(name) {
            throw ParseError(line: 1, column: name, message: "the required column is missing (columns: \(header.fields.joined(separator: ", ")))")
        }
        for name in types.keys where !seen.contains(name) {
            throw ParseError(line: 1, column: name, message: "a declared column is missing")
        }
        let width = header.fields.count
        var cells = [[String]](repeating: [], count: width)
        for record in records.dropFirst() {
            if record.fields.count == 1, record.fields[0].isEmpty { continue }  // blank line
            guard record.fields.count == width else {
                throw ParseError(line: record.line, column: nil, message: "\(record.fields.count) fields, the header has \(width)")
            }
            for i in 0..<width { cells[i].append(record.fields[i]) }
        }
        var table = Table()
        for (i, name) in header.fields.enumerated() {
            let values = cells[i]
            let declared = types[name]
            let numbers = values.map { $0.isEmpty ? Double.nan : Double($0.trimmingCharacters(in: .whitespaces)) }
            let isNumeric = declared == .numeric || (declared == nil && !values.isEmpty && numbers.allSatisfy { $0 != nil })
            if isNumeric {
                if let bad = numbers.firstIndex(where: { $0 == nil }) {
                    throw ParseError(line: lineOf(bad, records), column: name, message: "'\(values[bad])' is not a number")
                }
                table.append(name, .numeric(numbers.map { $0! }))
            } else {
                table.append(name, .categorical(values))
            }
        }
        return table
    }

    static func lineOf(_ rowIndex: Int, _ records: [Record]) -> Int {
        // Blank lines are skipped, so count the non-blank records.
        var seen = -1
        for record in records.dropFirst() where !(record.fields.count == 1 && record.fields[0].isEmpty) {
            seen += 1
            if seen == rowIndex { return record.line }
        }
        return records.last?.line ?? 1
    }

    struct Record {
        var line: Int
        var fields: [String]
    }

    static func split(_ data: Data) throws(ParseError) -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field = [UInt8]()
        var line = 1, recordLine = 1
        var inQuotes = false, wasQuoted = false
        let bytes = [UInt8](data)
        var index = 0
        while index < bytes.count {
            let b = bytes[index]
            if inQuotes {
                if b == UInt8(ascii: "\"") {
                    if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\"") { field.append(b); index += 2; continue }
                    inQuotes = false
                } else {
                    if b == 10 { line += 1 }
                    field.append(b)
                }
                index += 1
                continue
            }
            switch b {
            case UInt8(ascii: "\""):
                guard field.isEmpty, !wasQuoted else {
                    throw ParseError(line: line, column: nil, message: "a quote in the middle of an unquoted field; quote the whole field and double the quote")
                }
                inQuotes = true
                wasQuoted = true
            case UInt8(ascii: ","):
                fields.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
                wasQuoted = false
            case 13:
                break
            case 10:
                fields.append(String(decoding: field, as: UTF8.self))
                records.append(Record(line: recordLine, fields: fields))
                fields.removeAll(keepingCapacity: true)
                field.removeAll(keepingCapacity: true)
                wasQuoted = false
                line += 1
                recordLine = line
            default:
                field.append(b)
            }
            index += 1
        }
        if inQuotes { throw ParseError(line: recordLine, column: nil, message: "a quoted field is not closed") }
        if !field.isEmpty || !fields.isEmpty || wasQuoted {
            fields.append(String(decoding: field, as: UTF8.self))
            records.append(Record(line: recordLine, fields: fields))
        }
        return records
    }

    /// Writes `table` as CSV: numbers in their shortest exact form (whole numbers without a
    /// fraction), a missing number as an empty cell, text quoted when it must be.
    public static func write(_ table: Table) -> Data {
        var out = table.names.map(quote).joined(separator: ",") + "\n"
        out.reserveCapacity(table.rowCount * table.names.count * 8)
        for r in 0..<table.rowCount {
            var first = true
            for column in table.columns {
                if !first { out += "," }
                first = false
                switch column {
                case let .numeric(values): out += format(values[r])
                case let .categorical(values): out += quote(values[r])
                }
            }
            out += "\n"
        }
        return Data(out.utf8)
    }

    public static func format(_ value: Double) -> String {
        if value.isNaN { return "" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    static func quote(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

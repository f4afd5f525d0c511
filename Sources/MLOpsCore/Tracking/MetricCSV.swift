import Foundation

/// Metric points as CSV lines, `key,value[,step[,timestamp_ms]]`, for bulk logging; a header line
/// starting with `key` is skipped. Parsed on bytes, since a million lines must not take long.
public enum MetricCSV {
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public static func parse(_ data: Data, source: String, now: Int64 = WallClock.process.nowMillis()) throws(ParseError) -> [MetricPoint] {
        var points: [MetricPoint] = []
        points.reserveCapacity(data.count / 16)
        var lineNumber = 0
        var failure: ParseError?
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var start = 0
            var keyCache: [ArraySlice<UInt8>: String] = [:]
            while start < bytes.count, failure == nil {
                var end = start
                while end < bytes.count, bytes[end] != 10 { end += 1 }
                lineNumber += 1
                var lineEnd = end
                if lineEnd > start, bytes[lineEnd - 1] == 13 { lineEnd -= 1 }
                defer { start = end + 1 }
                if lineEnd == start { continue }
                var fields: [Range<Int>] = []
                var fieldStart = start
                for i in start..<lineEnd where bytes[i] == 44 {
                    fields.append(fieldStart..<i)
                    fieldStart = i + 1
                }
                fields.append(fieldStart..<lineEnd)
                let keyBytes = Array(bytes[fields[0]])[...]
                if lineNumber == 1, keyBytes.elementsEqual("key".utf8) { continue }
                guard fields.count >= 2, fields.count <= 4, !keyBytes.isEmpty else {
                    failure = ParseError(description: "\(source):\(lineNumber): expected key,value[,step[,timestamp_ms]], found \(fields.count) field\(fields.count == 1 ? "" : "s")")
                    return
                }
                let key = keyCache[keyBytes] ?? {
                    let k = String(decoding: keyBytes, as: UTF8.self)
                    keyCache[keyBytes] = k
                    return k
                }()
                func text(_ r: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: bytes[r]), as: UTF8.self) }
                guard let value = Double(text(fields[1])) else {
                    failure = ParseError(description: "\(source):\(lineNumber): value '\(text(fields[1]))' of '\(key)' is not a number")
                    return
                }
                var step: Int64 = 0
                var timestamp = now
                if fields.count >= 3, !fields[2].isEmpty {
                    guard let s = Int64(text(fields[2])) else {
                        failure = ParseError(description: "\(source):\(lineNumber): step '\(text(fields[2]))' is not a whole number")
                        return
                    }
                    step = s
                }
                if fields.count == 4, !fields[3].isEmpty {
                    guard let t = Int64(text(fields[3])) else {
                        failure = ParseError(description: "\(source):\(lineNumber): timestamp '\(text(fields[3]))' is not whole milliseconds")
                        return
                    }
                    timestamp = t
                }
                points.append(MetricPoint(key: key, value: value, timestamp: timestamp, step: step))
            }
        }
        if let failure { throw failure }
        return points
    }
}

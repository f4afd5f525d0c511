import Foundation

/// What a stage may leave in its artifact folder instead of calling `mlops log`:
/// `metrics.json` (`{"auc": 0.83, "loss": [0.9, 0.5, 0.4]}`, a list being one value a step, `null`
/// a value that is not a number, such as an AUC with one class only) and
/// `params.json` (`{"l2": 1.0}`), read when the attempt ends.
public enum StageReports {
    public struct Report: Sendable {
        public var metrics: [MetricPoint] = []
        public var params: [String: String] = [:]
    }

    public struct ReportError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public static func read(artifactsDirectory: String, timestamp: Int64 = WallClock.process.nowMillis()) throws(ReportError) -> Report {
        var report = Report()
        let metricsPath = "\(artifactsDirectory)/metrics.json"
        for (key, value) in try object(at: metricsPath).sorted(by: { $0.key < $1.key }) {
            switch value {
            case let .number(number):
                report.metrics.append(MetricPoint(key: key, value: number, timestamp: timestamp))
            case .null:
                report.metrics.append(MetricPoint(key: key, value: .nan, timestamp: timestamp))
            case let .array(items):
                for (step, item) in items.enumerated() {
                    guard case let .number(number) = item else {
                        throw ReportError(description: "\(metricsPath): metric '\(key)' step \(step) is not a number")
                    }
                    report.metrics.append(MetricPoint(key: key, value: number, timestamp: timestamp, step: Int64(step)))
                }
            default:
                throw ReportError(description: "\(metricsPath): metric '\(key)' must be a number or a list of numbers")
            }
        }
        let paramsPath = "\(artifactsDirectory)/params.json"
        for (key, value) in try object(at: paramsPath) {
            switch value {
            case let .string(text): report.params[key] = text
            case let .bool(flag): report.params[key] = flag ? "true" : "false"
            case let .number(number):
                report.params[key] = number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
            default: throw ReportError(description: "\(paramsPath): param '\(key)' must be a string, number or boolean")
            }
        }
        return report
    }

    static func object(at path: String) throws(ReportError) -> [String: JSONValue] {
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        let value: JSONValue
        do {
            value = try JSONValue.parse(data)
        } catch {
            throw ReportError(description: "\(path) is not valid JSON")
        }
        guard case let .object(object) = value else {
            throw ReportError(description: "\(path): expected a JSON object of names to values")
        }
        return object
    }
}

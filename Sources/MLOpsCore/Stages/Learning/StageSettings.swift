import Foundation
import MLOpsLearn

/// A built-in stage's `with:` read with types and defaults; a wrong value fails the stage with a
/// message naming the key.
struct StageSettings {
    let stage: String
    let with: [String: SpecValue]

    struct Failure: Error {
        var message: String
    }

    func int(_ key: String, _ fallback: Int) throws -> Int {
        guard let value = with[key] else { return fallback }
        guard let number = value.int else { throw Failure(message: "\(stage): `\(key)` must be a whole number, got '\(value)'") }
        return number
    }

    func optionalInt(_ key: String) throws -> Int? {
        guard with[key] != nil, with[key] != .null else { return nil }
        return try int(key, 0)
    }

    func double(_ key: String, _ fallback: Double) throws -> Double {
        guard let value = with[key] else { return fallback }
        guard let number = value.double else { throw Failure(message: "\(stage): `\(key)` must be a number, got '\(value)'") }
        return number
    }

    func string(_ key: String, _ fallback: String) -> String {
        with[key].map(\.description) ?? fallback
    }

    func strings(_ key: String) throws -> [String]? {
        guard let value = with[key] else { return nil }
        guard case let .list(items) = value else { throw Failure(message: "\(stage): `\(key)` must be a list") }
        return items.map(\.description)
    }
}

/// Helpers every learning stage shares: reading upstream tables, writing artifacts atomically, and
/// reporting through metrics.json and params.json like any other stage.
enum StageFiles {
    static func readTable(_ context: StageContext, _ name: String, required: [String] = [],
                          types: [String: TableCSV.ColumnType] = [:], producer: String) throws -> Table {
        guard let path = context.inputFile(name) else {
            throw StageSettings.Failure(message: "\(context.stage) needs \(name) from an upstream stage (\(producer)); its needs give none")
        }
        return try readTable(path: path, required: required, types: types)
    }

    static func readTable(path: String, required: [String] = [], types: [String: TableCSV.ColumnType] = [:]) throws -> Table {
        // Mapped, not copied: a large table is parsed straight from the page cache.
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else {
            throw StageSettings.Failure(message: "cannot read \(path)")
        }
        do {
            return try TableCSV.read(data, types: types, required: required)
        } catch {
            throw StageSettings.Failure(message: "\(path): \(error.description)")
        }
    }

    static func write(_ data: Data, to name: String, in context: StageContext) throws {
        try data.write(to: URL(fileURLWithPath: "\(context.artifactsDirectory)/\(name)"), options: .atomic)
    }

    static func report(metrics: [String: Double], params: [String: String] = [:], in context: StageContext) throws {
        // JSON has no NaN: a value that is not a number travels as null and is recorded as NaN.
        if !metrics.isEmpty { try write(Data(JSONWriter.text(metrics, pretty: true).utf8), to: "metrics.json", in: context) }
        if !params.isEmpty { try write(Data(JSONWriter.text(params, pretty: true).utf8), to: "params.json", in: context) }
    }

    /// Runs a stage body, turning its failures into a failed termination with the message.
    static func run(_ body: () throws -> Void) -> StageTermination {
        do {
            try body()
            return .succeeded
        } catch let failure as StageSettings.Failure {
            return .failed(failure.message, exitCode: nil)
        } catch {
            return .failed("\(error)", exitCode: nil)
        }
    }
}

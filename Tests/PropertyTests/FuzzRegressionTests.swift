import Foundation
import MLOpsCore
import MLOpsLearn
import MLOpsStore
import Testing

/// Every input a fuzzer once crashed on (fuzz/Regressions/TARGET, kept by bench/run-fuzz) and the
/// fuzzers' seeds, replayed through the same entry points: a parser that crashes again fails the
/// suite. Each target's entry point is the same call its fuzz/Targets/TARGET/main.swift makes.
@Suite("Inputs the fuzzers found, replayed")
struct FuzzRegressionTests {
    static let fuzz = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fuzz")

    static func inputs(_ target: String) -> [(name: String, data: Data)] {
        ["Regressions", "Seeds"].flatMap { folder -> [(String, Data)] in
            let directory = fuzz.appendingPathComponent(folder).appendingPathComponent(target)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            return names.sorted().compactMap { name in
                (try? Data(contentsOf: directory.appendingPathComponent(name))).map { ("\(folder)/\(target)/\(name)", $0) }
            }
        }
    }

    static let entryPoints: [String: @Sendable (Data) -> Void] = [
        "FuzzSpec": { _ = try? SpecParser.parse(text: String(decoding: $0, as: UTF8.self), file: "jobs.yaml") },
        "FuzzCSV": { _ = try? TableCSV.read($0) },
        "FuzzFilter": { _ = try? RunFilter(parsing: String(decoding: $0, as: UTF8.self)) },
        "FuzzJSON": { data in _ = data.withUnsafeBytes { try? JSONBody.parse($0) } },
        "FuzzCron": { data in
            if let cron = try? CronExpression(parsing: String(decoding: data, as: UTF8.self)), let zone = TimeZone(identifier: "Europe/Madrid") {
                _ = cron.next(after: Date(timeIntervalSince1970: 1_767_225_600), in: zone)
            }
        },
    ]

    @Test(arguments: ["FuzzSpec", "FuzzCSV", "FuzzFilter", "FuzzJSON", "FuzzCron"])
    func replay(_ target: String) throws {
        let inputs = Self.inputs(target)
        #expect(!inputs.isEmpty, "no seeds in fuzz/Seeds/\(target)")
        let entry = try #require(Self.entryPoints[target])
        for input in inputs { entry(input.data) }
    }
}

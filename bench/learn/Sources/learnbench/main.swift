// learnbench fit|score|csv FILE [l2]: times MLOpsLearn on data written by bench/learn.py and
// prints one JSON object. fit and score read a binary file (Int64 rows, Int64 columns, then rows ×
// columns float64 row-major, then rows float64 labels); csv reads a CSV with a header, features
// x0…x19 and a label y, and scores it end to end.
import Foundation
import MLOpsLearn

func peakMemoryMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return .nan }
    return kb / 1024
}

func load(_ path: String) -> (Matrix, [Bool]) {
    let data = FileManager.default.contents(atPath: path)!
    return data.withUnsafeBytes { raw in
        let rows = Int(raw.load(fromByteOffset: 0, as: Int64.self))
        let columns = Int(raw.load(fromByteOffset: 8, as: Int64.self))
        let values = raw.baseAddress!.advanced(by: 16).assumingMemoryBound(to: Double.self)
        let storage = Array(UnsafeBufferPointer(start: values, count: rows * columns))
        let labels = UnsafeBufferPointer(start: values.advanced(by: rows * columns), count: rows).map { $0 == 1 }
        return (Matrix(rows: rows, columns: columns, storage: storage), labels)
    }
}

func emit(_ object: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    FileHandle.standardError.write(Data("usage: learnbench fit|score|csv FILE [l2]\n".utf8))
    exit(2)
}
let mode = arguments[1], path = arguments[2]
let l2 = arguments.count > 3 ? Double(arguments[3])! : 1.0
let clock = ContinuousClock()

switch mode {
case "fit":
    let (x, y) = load(path)
    let start = clock.now
    let fit = LogisticRegression(l2: l2, maxIterations: 100, tolerance: 1e-8).fit(x, labels: y)
    let seconds = (clock.now - start) / .seconds(1)
    let auc = BinaryMetrics.auc(scores: fit.probabilities(x), labels: y)
    emit(["seconds": seconds, "auc": auc, "intercept": fit.intercept, "weights": fit.weights, "iterations": fit.iterations,
          "gradient_norm": fit.gradientNorm, "peak_mib": peakMemoryMiB()])
case "score":
    let (x, _) = load(path)
    let fit = LogisticRegression.Fit(intercept: -2, weights: (0..<x.columns).map { Double($0 % 5) * 0.1 - 0.2 },
                                     iterations: 0, gradientNorm: 0, converged: true, objective: 0)
    var best = Double.infinity
    var checksum = 0.0
    for _ in 0..<5 {
        let start = clock.now
        let p = fit.probabilities(x)
        best = min(best, (clock.now - start) / .seconds(1))
        checksum += p[0]
    }
    emit(["rows_per_second": Double(x.rows) / best, "rows": x.rows, "checksum": checksum])
case "csv":
    // End to end, as the score stage does it: map the CSV, read it, fit the encoder's
    // standardisation on it, and score every row column by column.
    let start = clock.now
    let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
    let table = try TableCSV.read(data)
    let encoder = try FeatureEncoder.fit(table, exclude: ["y"])
    let z = try encoder.linearPredictor(table, intercept: -2, weights: [Double](repeating: 0.1, count: encoder.width))
    let p = z.map { 1 / (1 + exp(-$0)) }
    let seconds = (clock.now - start) / .seconds(1)
    emit(["rows_per_second": Double(table.rowCount) / seconds, "rows": table.rowCount, "seconds": seconds,
          "checksum": p.prefix(10).reduce(0, +), "peak_mib": peakMemoryMiB()])
default:
    FileHandle.standardError.write(Data("unknown mode \(mode)\n".utf8))
    exit(2)
}

import Foundation
import MLOpsCore
import MLOpsText

/// A job's stage DAG as SVG: the spec's layers left to right, each stage a box in the colour of its
/// last attempt's outcome, linked to that attempt, with an edge for each `needs`.
enum StageDiagram {
    static func svg(_ job: JobSpec, attempts: [RunRecord], base: String) -> String {
        let layers = StageGraph(job: job).layers()
        let last = Dictionary(attempts.compactMap { a in a.stage.map { ($0, a) } }, uniquingKeysWith: { a, b in (a.startTime ?? 0) >= (b.startTime ?? 0) ? a : b })
        let (boxW, boxH, gapX, gapY) = (124.0, 34.0, 26.0, 12.0)
        var position: [String: (x: Double, y: Double)] = [:]
        for (column, layer) in layers.enumerated() {
            for (row, name) in layer.enumerated() { position[name] = (10 + Double(column) * (boxW + gapX), 10 + Double(row) * (boxH + gapY)) }
        }
        let width = 20 + Double(layers.count) * (boxW + gapX) - gapX
        let height = 20 + Double(layers.map(\.count).max() ?? 1) * (boxH + gapY) - gapY
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"stages of \(TextEscaping.xml(job.name))\" font-family=\"system-ui, sans-serif\" font-size=\"12\">"
        for stage in job.stages {
            guard let to = position[stage.name] else { continue }
            for need in stage.needs {
                guard let from = position[need] else { continue }
                out += String(format: "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#9aa5b1\"/>", from.x + boxW, from.y + boxH / 2, to.x, to.y + boxH / 2)
            }
        }
        for stage in job.stages {
            guard let at = position[stage.name] else { continue }
            let attempt = last[stage.name]
            let state = attempt?.outcome?.rawValue ?? attempt?.status.rawValue.lowercased() ?? "not run"
            let colour = ["succeeded": "#1a7f37", "reused": "#1a7f37", "failed": "#c62828", "timed_out": "#c62828", "running": "#0b6bcb",
                          "killed": "#a15c00", "skipped": "#a15c00", "orphaned": "#c62828"][state] ?? "#9aa5b1"
            let box = String(format: "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" rx=\"5\" fill=\"white\" stroke=\"%@\" stroke-width=\"2\"/>", at.x, at.y, boxW, boxH, colour)
                + String(format: "<text x=\"%.0f\" y=\"%.0f\">", at.x + 8, at.y + 14) + TextEscaping.xml(stage.name) + "</text>"
                + String(format: "<text x=\"%.0f\" y=\"%.0f\" fill=\"%@\" font-size=\"11\">", at.x + 8, at.y + 28, colour) + TextEscaping.xml(state.replacingOccurrences(of: "_", with: " ")) + "</text>"
            out += attempt.map { "<a href=\"\(TextEscaping.xml(base))/runs/\($0.id)\">\(box)</a>" } ?? box
        }
        return out + "</svg>"
    }
}

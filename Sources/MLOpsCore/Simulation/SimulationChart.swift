import Foundation

/// The simulation as an SVG: the hit rate week by week with its interval as a band, the baseline
/// as a dashed line, and a marker for each event (retrain, promotion, rollback, failed gate) and
/// for the drift week. Plain SVG, no script, readable in any browser.
public enum SimulationChart {
    public static func svg(_ weeks: [SimulationWeek], driftWeek: Int?, badCandidateWeek: Int?, title: String) -> String {
        let width = 960.0, height = 420.0, left = 60.0, right = 20.0, top = 40.0, bottom = 70.0
        let rates = weeks.flatMap { [$0.lower, $0.upper, $0.baseline].compactMap { $0 } }
        let high = min(1, ((rates.max() ?? 0.5) * 1.15 * 20).rounded(.up) / 20)
        let low = max(0, ((rates.min() ?? 0) * 0.85 * 20).rounded(.down) / 20)
        let n = max(1, weeks.count - 1)
        func x(_ week: Int) -> Double { left + (width - left - right) * Double(week) / Double(n) }
        func y(_ value: Double) -> Double { top + (height - top - bottom) * (1 - (value - low) / max(0.0001, high - low)) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="11">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(left))" y="22" font-size="14" font-weight="bold">\(escape(title))</text>

            """
        var tick = low
        while tick <= high + 1e-9 {
            svg += "<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(y(tick)))\" y2=\"\(f(y(tick)))\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(y(tick) + 4))\" text-anchor=\"end\" fill=\"#555\">\(String(format: "%.2f", tick))</text>\n"
            tick += 0.05
        }
        for week in stride(from: 0, through: weeks.count - 1, by: 4) {
            svg += "<text x=\"\(f(x(week)))\" y=\"\(f(height - bottom + 16))\" text-anchor=\"middle\" fill=\"#555\">w\(week)</text>\n"
        }
        let measured = weeks.filter { $0.lower != nil && $0.upper != nil }
        if measured.count > 1 {
            let upper = measured.map { "\(f(x($0.week))),\(f(y($0.upper!)))" }
            let lower = measured.reversed().map { "\(f(x($0.week))),\(f(y($0.lower!)))" }
            svg += "<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"#1f77b4\" fill-opacity=\"0.15\"/>\n"
        }
        let line = weeks.compactMap { w in w.hitRate.map { "\(f(x(w.week))),\(f(y($0)))" } }
        svg += "<polyline points=\"\(line.joined(separator: " "))\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\"/>\n"
        let base = weeks.compactMap { w in w.baseline.map { "\(f(x(w.week))),\(f(y($0)))" } }
        svg += "<polyline points=\"\(base.joined(separator: " "))\" fill=\"none\" stroke=\"#555\" stroke-dasharray=\"5,4\"/>\n"
        func marker(_ week: Int, _ color: String, _ label: String, row: Int) {
            svg += "<line x1=\"\(f(x(week)))\" x2=\"\(f(x(week)))\" y1=\"\(f(top))\" y2=\"\(f(height - bottom))\" stroke=\"\(color)\" stroke-opacity=\"0.6\"/>"
            svg += "<text x=\"\(f(x(week) + 3))\" y=\"\(f(top + 12 + Double(row) * 12))\" fill=\"\(color)\">\(escape(label))</text>\n"
        }
        if let driftWeek { marker(driftWeek, "#7f7f7f", "drift", row: 0) }
        if let badCandidateWeek { marker(badCandidateWeek, "#8c564b", "bad candidate", row: 0) }
        for w in weeks {
            for (i, event) in w.events.enumerated() {
                let color = event.hasPrefix("rollback") || event.hasPrefix("gate") ? "#d62728"
                    : event.hasPrefix("promote") ? "#2ca02c" : event == "retrain" ? "#ff7f0e" : "#9467bd"
                marker(w.week, color, event, row: i + 1)
            }
        }
        let legendY = height - 22
        svg += "<line x1=\"\(f(left))\" x2=\"\(f(left + 24))\" y1=\"\(f(legendY))\" y2=\"\(f(legendY))\" stroke=\"#1f77b4\" stroke-width=\"2\"/>"
        svg += "<text x=\"\(f(left + 30))\" y=\"\(f(legendY + 4))\">hit rate of mature outcomes (band: 95% Wilson interval)</text>"
        svg += "<line x1=\"\(f(left + 340))\" x2=\"\(f(left + 364))\" y1=\"\(f(legendY))\" y2=\"\(f(legendY))\" stroke=\"#555\" stroke-dasharray=\"5,4\"/>"
        svg += "<text x=\"\(f(left + 370))\" y=\"\(f(legendY + 4))\">baseline</text>\n</svg>\n"
        return svg
    }

    static func escape(_ text: String) -> String { TextEscaping.xml(text) }
}

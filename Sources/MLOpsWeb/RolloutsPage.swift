import Foundation
import MLOpsCore
import MLOpsText

/// `/rollouts`: every rollout, newest first; `/rollouts/ID`: its steps with the current one
/// marked, its weight over time, its last analysis (both arms' outcomes and hit rates, the
/// interval of their difference against the margin) and every event with who caused it and why.
struct RolloutsPage {
    let view: WebView

    var rollouts: RolloutStore { RolloutStore(store: view.store) }

    func render() throws -> String {
        var context: [String: Any] = ["title": "Rollouts", "base": view.base, "nav": view.nav("Rollouts")]
        context["rollouts"] = try rollouts.list().map { rollout in
            ["id": rollout.id, "short": String(rollout.id.prefix(8)), "model": rollout.model, "candidate": rollout.candidateVersion,
             "stable": rollout.stableVersion.map(String.init) ?? "", "strategy": rollout.strategy, "state": rollout.state.name,
             "weight": rollout.weight, "verdict": rollout.analysis?.verdict ?? "", "started": Formatting.timestamp(millis: rollout.startedTime)] as [String: Any]
        }
        return view.templates.render("rollouts", context)
    }

    func render(rollout id: String) throws -> String {
        guard let rollout = try rollouts.rollout(id) else { throw PageNotFound(message: "No rollout \(id)") }
        let events = try rollouts.events(rollout.id)
        var context: [String: Any] = ["title": "\(rollout.model) rollout", "base": view.base, "nav": view.nav("Rollouts"),
                                      "model": rollout.model, "candidate": rollout.candidateVersion, "state": rollout.state.name]
        if let stable = rollout.stableVersion { context["stable"] = stable }
        if let reason = rollout.reason { context["reason"] = reason }
        context["steps"] = rollout.plan.steps.enumerated().map { index, step in
            ["text": Self.describe(step), "current": rollout.step == index] as [String: Any]
        }
        context["weightChart"] = Self.weightChart(events, now: view.store.nowMillis(), finished: rollout.finishedTime)
        if let analysis = rollout.analysis {
            var arms: [[String: Any]] = [Self.arm("candidate", analysis.candidate)]
            if let stable = analysis.stable { arms.append(Self.arm("stable", stable)) }
            context["analysis"] = ["verdict": analysis.verdict, "arms": arms, "metric": analysis.metric,
                                   "lower": analysis.lower.map(Formatting.number) ?? "?", "upper": analysis.upper.map(Formatting.number) ?? "?",
                                   "alpha": Formatting.number(analysis.alpha), "margin": Formatting.number(analysis.margin),
                                   "reason": analysis.reason] as [String: Any]
        }
        context["events"] = events.reversed().map { event in
            ["time": Formatting.timestamp(millis: event.time), "event": event.event, "from": event.from_state ?? "", "to": event.to_state,
             "weight": event.weight, "actor": event.actor, "detail": event.detail ?? ""] as [String: Any]
        }
        return view.templates.render("rollout", context)
    }

    static func arm(_ name: String, _ arm: RolloutAnalysis.Arm) -> [String: Any] {
        ["arm": name, "version": arm.version, "trials": arm.trials, "successes": arm.successes, "rate": arm.trials > 0 ? Formatting.number(arm.rate) : "–"]
    }

    static func describe(_ step: DeploySpec.Step) -> String {
        switch step {
        case let .setWeight(weight): return "set weight \(weight)%"
        case let .bake(minDuration, minSamples, maxDuration):
            return "bake" + [minDuration.map { " at least \($0)" }, minSamples.map { ", \($0) outcomes" }, maxDuration.map { ", at most \($0)" }]
                .compactMap { $0 }.joined()
        case let .analysis(metric, margin, alpha): return "analysis of \(metric): not worse by more than \(Formatting.number(margin)) at α = \(Formatting.number(alpha))"
        case let .pause(duration): return duration.map { "pause \($0)" } ?? "pause until promoted"
        }
    }

    /// The weight as a step line over the rollout's life, from its events.
    static func weightChart(_ events: [RolloutEventRecord], now: Int64, finished: Int64?, width: Double = 640, height: Double = 120) -> String {
        guard let start = events.first?.time else { return "" }
        let end = max(finished ?? now, start + 1)
        func x(_ t: Int64) -> Double { 40 + Double(t - start) / Double(end - start) * (width - 50) }
        func y(_ w: Int) -> Double { height - 20 - Double(w) / 100 * (height - 30) }
        var points: [String] = []
        var weight = 0
        for event in events {
            points.append(String(format: "%.1f,%.1f", x(event.time), y(weight)))
            weight = event.weight
            points.append(String(format: "%.1f,%.1f", x(event.time), y(weight)))
        }
        points.append(String(format: "%.1f,%.1f", x(end), y(weight)))
        return "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"weight over time\" font-size=\"11\" font-family=\"system-ui, sans-serif\">"
            + "<text x=\"4\" y=\"\(Int(y(100)) + 4)\">100%</text><text x=\"12\" y=\"\(Int(y(0)) + 4)\">0%</text>"
            + "<line x1=\"40\" y1=\"\(y(0))\" x2=\"\(width - 10)\" y2=\"\(y(0))\" stroke=\"#dde3e8\"/>"
            + "<polyline fill=\"none\" stroke=\"#0b6bcb\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>"
            + "<text x=\"40\" y=\"\(Int(height) - 4)\">\(TextEscaping.xml(Formatting.timestamp(millis: start)))</text></svg>"
    }
}

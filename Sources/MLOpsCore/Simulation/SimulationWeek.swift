import Foundation

/// One row of the simulation's table: where the model stood at the end of a week, and what
/// happened during it.
public struct SimulationWeek: Sendable, Codable, Hashable {
    public var week: Int
    public var date: String
    public var champion: Int?
    public var candidate: Int?
    public var weight: Int?
    public var hitRate: Double?
    public var lower: Double?
    public var upper: Double?
    public var outcomes: Int
    public var baseline: Double?
    public var verdict: String?
    public var driftShare: Double?
    /// `retrain`, `canary vN`, `promote vN`, `rollback vN`, `gate failed`, in order.
    public var events: [String]
}

extension Simulation {
    /// The state at `to`, and the events in (`from`, `to`].
    func snapshot(week: Int, from: Int64, to: Int64) throws -> SimulationWeek {
        let model = try store.read { tx in try RolloutRecords.firstModel(tx) ?? RegistryRecords.firstServedModel(tx) }
        let evaluation = try HitRateMonitor.lastEvaluations(store).values.first { $0.model == model }
        return try store.read { tx in
            let champion = try model.flatMap { try RegistryRecords.version(tx, $0, alias: .champion) }
            let inFlight = try model.flatMap { try RolloutStore.inFlight(tx, $0) }
            var events: [String] = []
            let retrains = try Tracker.jobStarts(tx, trigger: .monitor, after: from, upTo: to)
            events += Array(repeating: "retrain", count: retrains)
            for row in try RolloutRecords.events(tx, after: from, upTo: to) {
                let version = row.candidate
                switch (row.event, row.toState) {
                case ("start", "promoted"): events.append("promote v\(version)")
                case ("start", _): events.append("canary v\(version)")
                case (_, "promoted"): events.append("promote v\(version)")
                case (_, "rolled_back"): events.append("rollback v\(version)")
                default: break
                }
            }
            let gates = try Tracker.stageFailures(tx, stage: "gate", after: from, upTo: to)
            events += Array(repeating: "gate failed", count: gates)
            let drift = try champion.flatMap { try FeatureDriftLog.latest(tx, model: model ?? "", version: $0, now: to) }
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withFullDate]
            return SimulationWeek(week: week, date: formatter.string(from: Date(timeIntervalSince1970: Double(from + 3 * Self.day) / 1000)),
                                  champion: champion, candidate: inFlight?.candidateVersion, weight: inFlight?.weight,
                                  hitRate: evaluation?.rate, lower: evaluation?.lower, upper: evaluation?.upper, outcomes: evaluation?.trials ?? 0,
                                  baseline: evaluation?.baseline, verdict: evaluation?.verdict.rawValue,
                                  driftShare: drift?.report.share, events: events)
        }
    }
}

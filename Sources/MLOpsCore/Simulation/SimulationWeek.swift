import Foundation
import GRDB

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
        let model = try store.database.read { db in
            try String.fetchOne(db, sql: "SELECT model_name FROM rollouts ORDER BY started_time LIMIT 1")
                ?? String.fetchOne(db, sql: "SELECT name FROM registered_model_aliases WHERE alias = 'champion' LIMIT 1")
        }
        let evaluation = try HitRateMonitor.lastEvaluations(store).values.first { $0.model == model }
        return try store.database.read { db in
            let champion = try Int.fetchOne(db, sql: "SELECT version FROM registered_model_aliases WHERE name = ? AND alias = 'champion'", arguments: [model])
            let inFlight = try model.flatMap { try RolloutStore.inFlight(db, $0) }
            var events: [String] = []
            let retrains = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM runs WHERE kind = 'job' AND trigger = 'monitor' AND start_time > ? AND start_time <= ?",
                                            arguments: [from, to]) ?? 0
            events += Array(repeating: "retrain", count: retrains)
            for row in try Row.fetchAll(db, sql: """
                SELECT e.event, e.to_state, r.candidate_version FROM rollout_events e JOIN rollouts r ON r.id = e.rollout_id
                WHERE e.time > ? AND e.time <= ? ORDER BY e.id
                """, arguments: [from, to]) {
                let version: Int = row["candidate_version"]
                switch (row["event"] as String, row["to_state"] as String) {
                case ("start", "promoted"): events.append("promote v\(version)")
                case ("start", _): events.append("canary v\(version)")
                case (_, "promoted"): events.append("promote v\(version)")
                case (_, "rolled_back"): events.append("rollback v\(version)")
                default: break
                }
            }
            let gates = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM runs WHERE kind = 'stage' AND outcome = 'failed' AND stage = 'gate' AND start_time > ? AND start_time <= ?
                """, arguments: [from, to]) ?? 0
            events += Array(repeating: "gate failed", count: gates)
            let drift = try champion.flatMap { try FeatureDriftLog.latest(db, model: model ?? "", version: $0, now: to) }
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

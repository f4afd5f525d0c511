import Foundation
import GRDB

/// Rollouts as rows: at most one in flight per model (a unique index says so), and every
/// transition one transaction that updates the row, appends an event, writes the audit row and
/// moves the aliases the new state implies (`challenger` while in flight, `champion` on promotion
/// and rollback, `previous` while blue-green keeps the old version ready).
public struct RolloutStore: Sendable {
    public let store: Store

    public init(store: Store) { self.store = store }

    public struct RolloutError: Error, Sendable, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    // MARK: Reading

    public func inFlight(_ model: String) throws -> Rollout? {
        try store.database.read { try Self.inFlight($0, model) }
    }

    static func inFlight(_ db: Database, _ model: String) throws -> Rollout? {
        try Rollout.fetchOne(db, sql: "SELECT * FROM rollouts WHERE model_name = ? AND state IN ('pending', 'progressing', 'paused')", arguments: [model])
    }

    /// The model's newest rollout, whatever its state.
    public func latest(_ model: String) throws -> Rollout? {
        try store.database.read { db in
            try Rollout.fetchOne(db, sql: "SELECT * FROM rollouts WHERE model_name = ? ORDER BY started_time DESC, rowid DESC LIMIT 1", arguments: [model])
        }
    }

    /// Each model's newest rollout, or every rollout of `model`, newest first.
    public func list(model: String? = nil) throws -> [Rollout] {
        try store.database.read { db in
            if let model {
                return try Rollout.fetchAll(db, sql: "SELECT * FROM rollouts WHERE model_name = ? ORDER BY started_time DESC, rowid DESC", arguments: [model])
            }
            return try Rollout.fetchAll(db, sql: """
                SELECT * FROM rollouts r WHERE rowid = (SELECT rowid FROM rollouts WHERE model_name = r.model_name
                    ORDER BY started_time DESC, rowid DESC LIMIT 1) ORDER BY model_name
                """)
        }
    }

    public func rollout(_ id: String) throws -> Rollout? {
        try store.database.read { try Rollout.fetchOne($0, sql: "SELECT * FROM rollouts WHERE id = ?", arguments: [id]) }
    }

    public func events(_ rolloutID: String) throws -> [RolloutEventRecord] {
        try store.database.read { db in
            try RolloutEventRecord.fetchAll(db, sql: """
                SELECT time, actor, event, from_state, to_state, step, weight, detail FROM rollout_events WHERE rollout_id = ? ORDER BY id
                """, arguments: [rolloutID])
        }
    }

    // MARK: Writing

    /// Records a new rollout as pending. Refused while another rollout of the model is in flight.
    public func create(model: String, candidate: Int, stable: Int?, plan: RolloutPlan, jobRunID: String?, now: Int64) throws -> Rollout {
        let id = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let planText = String(decoding: try JSONEncoder().encode(plan), as: UTF8.self)
        return try store.database.write { db in
            if let current = try Self.inFlight(db, model) {
                throw RolloutError("model \(model) has a rollout of v\(current.candidateVersion) in flight (\(current.state.name)); "
                    + "wait for it, `mlops abort \(model)`, or set `in_flight: supersede` on the deploy stage")
            }
            try db.execute(sql: """
                INSERT INTO rollouts (id, model_name, candidate_version, stable_version, strategy, plan, state, step, weight, job_run_id,
                                      started_time, step_started_time, updated_time)
                VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, 0, ?, ?, ?, ?)
                """, arguments: [id, model, candidate, stable, plan.strategy, planText, jobRunID, now, now, now])
            let detail = "v\(candidate) against " + (stable.map { "v\($0)" } ?? "no champion") + ", \(plan.strategy)"
            try Self.appendEvent(db, id: id, model: model, event: "create", from: nil, to: "pending", step: nil, weight: 0, detail: detail, now: now)
            return try Rollout.fetchOne(db, sql: "SELECT * FROM rollouts WHERE id = ?", arguments: [id])!
        }
    }

    /// A transition that happened, for the caller to print or announce.
    public struct Transition: Sendable, Hashable {
        public var rollout: Rollout
        public var from: RolloutState
        public var event: String
        public var detail: String?

        /// One line, as the CLI prints it and stages echo it: what changed, and why.
        public var summary: String {
            "\(rollout.model) v\(rollout.candidateVersion): \(from.name) → \(rollout.state.name)  weight \(rollout.weight)%"
                + (detail.map { "  (\($0))" } ?? "")
        }
    }

    /// Applies `event` to the rollout as it is in the store now (not as the caller last read it),
    /// in one transaction with its event, audit row and alias moves.
    @discardableResult
    public func apply(_ event: RolloutEvent, to id: String, now: Int64, detail: String? = nil, rollbackTo: Int? = nil) throws -> Transition {
        try store.database.write { db in
            guard let rollout = try Rollout.fetchOne(db, sql: "SELECT * FROM rollouts WHERE id = ?", arguments: [id]) else {
                throw RolloutError("no rollout \(id)")
            }
            let machine = rollout.plan.machine
            let next: RolloutState
            do { next = try machine.next(rollout.state, event) } catch { throw RolloutError("\(rollout.model) v\(rollout.candidateVersion): \(error)") }
            var updated = rollout
            updated.state = next
            updated.weight = machine.weight(next)
            updated.updatedTime = now
            if updated.step != rollout.step || next.name != rollout.state.name {
                updated.stepStartedTime = now
                if let step = updated.step, step != rollout.step, case .bake = rollout.plan.steps[step] { updated.bakeStartedTime = now }
            }
            let reasonText = updated.reason ?? detail
            try sideEffects(db, rollout, updated: &updated, reason: reasonText ?? "", rollbackTo: rollbackTo, now: now)
            try db.execute(sql: """
                UPDATE rollouts SET state = ?, step = ?, reason = ?, weight = ?, step_started_time = ?, bake_started_time = ?,
                    promoted_time = ?, previous_until = ?, finished_time = ?, updated_time = ? WHERE id = ?
                """, arguments: [next.name, updated.step ?? rollout.step ?? 0, updated.reason, updated.weight, updated.stepStartedTime,
                                 updated.bakeStartedTime, updated.promotedTime, updated.previousUntil, updated.finishedTime, now, id])
            let name = RolloutMachine.eventName(event)
            if next != rollout.state || rollbackTo != nil {
                try Self.appendEvent(db, id: id, model: rollout.model, event: name, from: rollout.state.name, to: next.name,
                                     step: updated.step, weight: updated.weight, detail: reasonText, now: now)
            }
            if next != rollout.state { try announce(db, rollout, updated, detail: reasonText, now: now) }
            return Transition(rollout: updated, from: rollout.state, event: name, detail: reasonText)
        }
    }

    /// Puts the events a transition is worth into the outbox, in its transaction.
    func announce(_ db: Database, _ before: Rollout, _ after: Rollout, detail: String?, now: Int64) throws {
        let job = try before.jobRunID.flatMap { try String.fetchOne(db, sql: "SELECT job FROM runs WHERE run_uuid = ?", arguments: [$0]) }
        let subject = "\(before.model) v\(before.candidateVersion)"
        let details: [String: Any] = ["rollout": after.jsonObject, "detail": detail as Any]
        func send(_ event: NotifyEvent, _ summary: String) throws {
            try Outbox.enqueue(db, event, job: job, model: before.model, summary: summary, details: details, now: now)
        }
        if before.state == .pending {
            try send(.rolloutStarted, "\(subject): \(before.strategy) rollout started against " + (before.stableVersion.map { "v\($0)" } ?? "no champion"))
        }
        switch after.state {
        case .promoted: try send(.rolloutPromoted, "\(subject) promoted to champion")
        case let .paused(_, reason): try send(.rolloutPaused, "\(subject) paused: \(reason)")
        case let .rolledBack(reason): try send(.rolloutRolledBack, "\(subject) rolled back: \(reason)")
        default: break
        }
    }

    /// The aliases and tags a state implies, moved in the transition's transaction.
    func sideEffects(_ db: Database, _ before: Rollout, updated: inout Rollout, reason: String, rollbackTo: Int?, now: Int64) throws {
        // Rolling back what is rolled back moves nothing (unless a person names the version).
        if before.state == updated.state, rollbackTo == nil { return }
        let model = before.model, candidate = before.candidateVersion
        let why = "rollout \(before.id.prefix(8)) of v\(candidate): "
        switch updated.state {
        case .progressing where before.state == .pending:
            try ModelRegistry.moveAlias(db, model, .challenger, to: candidate, reason: why + "started")
        case .promoted where before.state != .promoted:
            try ModelRegistry.moveAlias(db, model, .champion, to: candidate, reason: why + "promoted")
            try ModelRegistry.removeAlias(db, model, .challenger, reason: why + "promoted")
            try ModelRegistry.tag(db, model, candidate, "rollout", "promoted")
            updated.promotedTime = now
            updated.finishedTime = now
            if let stable = before.stableVersion, let keep = before.plan.keepPreviousForMillis, keep > 0 {
                try ModelRegistry.moveAlias(db, model, .previous, to: stable, reason: why + "keeps v\(stable) ready for \(SpecDuration(milliseconds: keep))")
                updated.previousUntil = now + keep
            }
        case .aborted:
            try ModelRegistry.tag(db, model, candidate, "rollout", "aborted")
        case .rolledBack:
            let champion = try Int.fetchOne(db, sql: "SELECT version FROM registered_model_aliases WHERE name = ? AND alias = 'champion'", arguments: [model])
            if let target = rollbackTo ?? before.stableVersion {
                let status = try String.fetchOne(db, sql: "SELECT status FROM model_versions WHERE name = ? AND version = ?", arguments: [model, target])
                guard status == ModelVersion.Status.ready.rawValue else {
                    throw RolloutError("cannot roll \(model) back to v\(target): it is \(status ?? "not registered"), not READY")
                }
                try ModelRegistry.moveAlias(db, model, .champion, to: target, reason: why + "rolled back: \(reason)")
            } else if champion == candidate {
                try ModelRegistry.removeAlias(db, model, .champion, reason: why + "rolled back with no earlier version: \(reason)")
            }
            try ModelRegistry.removeAlias(db, model, .challenger, reason: why + "rolled back")
            try ModelRegistry.removeAlias(db, model, .previous, reason: why + "rolled back")
            try ModelRegistry.tag(db, model, candidate, "rollout", "rolled_back")
            try ModelRegistry.tag(db, model, candidate, "rollback_reason", reason)
            updated.previousUntil = nil
            updated.finishedTime = now
        default:
            break
        }
    }

    /// Releases the version blue-green kept ready, once `keep_previous_for` has passed.
    public func releasePrevious(_ id: String, now: Int64) throws -> Bool {
        try store.database.write { db in
            guard let rollout = try Rollout.fetchOne(db, sql: "SELECT * FROM rollouts WHERE id = ?", arguments: [id]),
                  let until = rollout.previousUntil, until <= now else { return false }
            try ModelRegistry.removeAlias(db, rollout.model, .previous, reason: "rollout \(id.prefix(8)): keep_previous_for has passed")
            try db.execute(sql: "UPDATE rollouts SET previous_until = NULL, updated_time = ? WHERE id = ?", arguments: [now, id])
            try Self.appendEvent(db, id: id, model: rollout.model, event: "release_previous", from: rollout.state.name, to: rollout.state.name,
                                 step: nil, weight: rollout.weight, detail: "v\(rollout.stableVersion.map(String.init) ?? "?") no longer kept ready", now: now)
            return true
        }
    }

    /// Keeps the latest analysis on the row; not a transition, so no event.
    func saveAnalysis(_ id: String, _ result: RolloutAnalysis.Result) throws {
        let text = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
        try store.database.write { db in
            try db.execute(sql: "UPDATE rollouts SET analysis = ? WHERE id = ?", arguments: [text, id])
        }
    }

    static func appendEvent(_ db: Database, id: String, model: String, event: String, from: String?, to: String, step: Int?, weight: Int,
                            detail: String?, now: Int64) throws {
        try db.execute(sql: """
            INSERT INTO rollout_events (rollout_id, time, actor, event, from_state, to_state, step, weight, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [id, now, AuditLog.actor, event, from, to, step, weight, detail])
        try AuditLog.record(db, entityType: "rollout", entityID: "\(model)/\(id)", action: event, from: from, to: to, detail: detail, time: now)
    }
}

import Foundation

/// A row of `rollouts` as stored: the plan and the last analysis as JSON text, the state as its
/// name with its step and reason. The deployment layer turns it into a typed `Rollout`.
public struct RolloutRow: Sendable, Hashable {
    public var id: String
    public var model: String
    public var candidateVersion: Int
    public var stableVersion: Int?
    public var strategy: String
    public var planJSON: String
    public var state: String
    public var step: Int
    public var reason: String?
    public var weight: Int
    public var jobRunID: String?
    public var startedTime: Int64
    public var stepStartedTime: Int64
    public var bakeStartedTime: Int64?
    public var promotedTime: Int64?
    public var previousUntil: Int64?
    public var finishedTime: Int64?
    public var analysisJSON: String?
    public var updatedTime: Int64

    init(row: Row) {
        id = row["id"]
        model = row["model_name"]
        candidateVersion = row["candidate_version"]
        stableVersion = row["stable_version"]
        strategy = row["strategy"]
        planJSON = row["plan"]
        state = row["state"]
        step = row["step"]
        reason = row["reason"]
        weight = row["weight"]
        jobRunID = row["job_run_id"]
        startedTime = row["started_time"]
        stepStartedTime = row["step_started_time"]
        bakeStartedTime = row["bake_started_time"]
        promotedTime = row["promoted_time"]
        previousUntil = row["previous_until"]
        finishedTime = row["finished_time"]
        analysisJSON = row["analysis"]
        updatedTime = row["updated_time"]
    }
}

/// What a transition changes on a rollout's row.
public struct RolloutUpdate: Sendable, Hashable {
    public var id: String
    public var state: String
    public var step: Int
    public var reason: String?
    public var weight: Int
    public var stepStartedTime: Int64
    public var bakeStartedTime: Int64?
    public var promotedTime: Int64?
    public var previousUntil: Int64?
    public var finishedTime: Int64?
    public var updatedTime: Int64

    public init(id: String, state: String, step: Int, reason: String?, weight: Int, stepStartedTime: Int64, bakeStartedTime: Int64?,
                promotedTime: Int64?, previousUntil: Int64?, finishedTime: Int64?, updatedTime: Int64) {
        self.id = id
        self.state = state
        self.step = step
        self.reason = reason
        self.weight = weight
        self.stepStartedTime = stepStartedTime
        self.bakeStartedTime = bakeStartedTime
        self.promotedTime = promotedTime
        self.previousUntil = previousUntil
        self.finishedTime = finishedTime
        self.updatedTime = updatedTime
    }
}

/// One transition of a rollout, as `mlops rollouts show` lists its history.
public struct RolloutEventRecord: Sendable, Hashable, Codable, RowDecodable {
    public var time: Int64
    public var actor: String
    public var event: String
    public var from_state: String?
    public var to_state: String
    public var step: Int?
    public var weight: Int
    public var detail: String?

    public init(row: Row) {
        time = row["time"]
        actor = row["actor"]
        event = row["event"]
        from_state = row["from_state"]
        to_state = row["to_state"]
        step = row["step"]
        weight = row["weight"]
        detail = row["detail"]
    }
}

/// The owner of `rollouts` and `rollout_events`: at most one rollout in flight per model (a unique
/// index says so), and every transition an update, an event and an audit row in the caller's
/// transaction, which also moves the aliases the new state implies (through `RegistryRecords`).
public enum RolloutRecords {
    static let inFlightStates = "state IN ('pending', 'progressing', 'paused')"
    /// Newest first: by start, and among rollouts started in the same millisecond (a simulated
    /// week aborts one and starts the next), by which was created last.
    static let newestFirst = "started_time DESC, (SELECT MIN(e.id) FROM rollout_events e WHERE e.rollout_id = rollouts.id) DESC"

    public static func inFlight(_ tx: StoreTransaction, _ model: String) throws -> RolloutRow? {
        try Row.fetchOne(tx.db, sql: "SELECT * FROM rollouts WHERE model_name = ? AND \(inFlightStates)", arguments: [model]).map(RolloutRow.init)
    }

    /// The model's newest rollout, whatever its state.
    public static func latest(_ tx: StoreTransaction, _ model: String) throws -> RolloutRow? {
        try Row.fetchOne(tx.db, sql: "SELECT * FROM rollouts WHERE model_name = ? ORDER BY \(newestFirst) LIMIT 1",
                         arguments: [model]).map(RolloutRow.init)
    }

    /// Each model's newest rollout, or every rollout of `model`, newest first.
    public static func list(_ tx: StoreTransaction, model: String?) throws -> [RolloutRow] {
        if let model {
            return try Row.fetchAll(tx.db, sql: "SELECT * FROM rollouts WHERE model_name = ? ORDER BY \(newestFirst)",
                                    arguments: [model]).map(RolloutRow.init)
        }
        return try Row.fetchAll(tx.db, sql: """
            SELECT * FROM rollouts r WHERE id = (SELECT id FROM rollouts WHERE model_name = r.model_name
                ORDER BY \(newestFirst) LIMIT 1) ORDER BY model_name
            """).map(RolloutRow.init)
    }

    /// Every rollout in flight, of every model: what serving routes by.
    public static func allInFlight(_ tx: StoreTransaction) throws -> [RolloutRow] {
        try Row.fetchAll(tx.db, sql: "SELECT * FROM rollouts WHERE \(inFlightStates) ORDER BY model_name").map(RolloutRow.init)
    }

    public static func rollout(_ tx: StoreTransaction, _ id: String) throws -> RolloutRow? {
        try Row.fetchOne(tx.db, sql: "SELECT * FROM rollouts WHERE id = ?", arguments: [id]).map(RolloutRow.init)
    }

    public static func events(_ tx: StoreTransaction, _ rolloutID: String) throws -> [RolloutEventRecord] {
        try RolloutEventRecord.fetchAll(tx.db, sql: """
            SELECT time, actor, event, from_state, to_state, step, weight, detail FROM rollout_events WHERE rollout_id = ? ORDER BY id
            """, arguments: [rolloutID])
    }

    /// Records a new pending rollout with its `create` event.
    public static func insert(_ tx: StoreTransaction, id: String, model: String, candidate: Int, stable: Int?, strategy: String, planJSON: String,
                              jobRunID: String?, detail: String, now: Int64) throws -> RolloutRow {
        try tx.db.execute(sql: """
            INSERT INTO rollouts (id, model_name, candidate_version, stable_version, strategy, plan, state, step, weight, job_run_id,
                                  started_time, step_started_time, updated_time)
            VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, 0, ?, ?, ?, ?)
            """, arguments: [id, model, candidate, stable, strategy, planJSON, jobRunID, now, now, now])
        try appendEvent(tx, id: id, model: model, event: "create", from: nil, to: "pending", step: nil, weight: 0, detail: detail, now: now)
        guard let row = try rollout(tx, id) else { throw StoreError("rollout \(id) vanished as it was created") }
        return row
    }

    /// Writes a transition's new state; the caller appends its event. A compare-and-set: the row
    /// changes only if it is still in the state (and step, and update time) the transition was
    /// computed from, so two processes that apply an event to one rollout never both move it.
    public static func update(_ tx: StoreTransaction, _ row: RolloutUpdate, from before: RolloutRow) throws {
        try tx.db.execute(sql: """
            UPDATE rollouts SET state = ?, step = ?, reason = ?, weight = ?, step_started_time = ?, bake_started_time = ?,
                promoted_time = ?, previous_until = ?, finished_time = ?, updated_time = ?
            WHERE id = ? AND state = ? AND step = ? AND updated_time = ?
            """, arguments: [row.state, row.step, row.reason, row.weight, row.stepStartedTime, row.bakeStartedTime,
                             row.promotedTime, row.previousUntil, row.finishedTime, row.updatedTime, row.id,
                             before.state, before.step, before.updatedTime])
        guard tx.db.changesCount == 1 else {
            throw StoreError("rollout \(row.id) moved on while this transition was computed (another process applied an event first); nothing was changed, read it again with `mlops rollouts show`")
        }
    }

    /// A rollout's row, locked against other transitions until the transaction ends (PostgreSQL).
    public static func rolloutForTransition(_ tx: StoreTransaction, _ id: String) throws -> RolloutRow? {
        try Row.fetchOne(tx.db, sql: "SELECT * FROM rollouts WHERE id = ?\(tx.lockingRead)", arguments: [id]).map(RolloutRow.init)
    }

    /// Keeps the latest analysis on the row; not a transition, so no event.
    public static func saveAnalysis(_ tx: StoreTransaction, _ id: String, json: String) throws {
        try tx.db.execute(sql: "UPDATE rollouts SET analysis = ? WHERE id = ?", arguments: [json, id])
    }

    /// Blue-green's previous version is no longer kept ready.
    public static func clearPreviousUntil(_ tx: StoreTransaction, _ id: String, now: Int64) throws {
        try tx.db.execute(sql: "UPDATE rollouts SET previous_until = NULL, updated_time = ? WHERE id = ?", arguments: [now, id])
    }

    /// Appends one event to a rollout's history, with its audit row.
    public static func appendEvent(_ tx: StoreTransaction, id: String, model: String, event: String, from: String?, to: String, step: Int?,
                                   weight: Int, detail: String?, now: Int64) throws {
        try tx.db.execute(sql: """
            INSERT INTO rollout_events (rollout_id, time, actor, event, from_state, to_state, step, weight, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [id, now, AuditLog.actor, event, from, to, step, weight, detail])
        try AuditLog.record(tx, entityType: "rollout", entityID: "\(model)/\(id)", action: event, from: from, to: to, detail: detail, time: now)
    }

    /// The models a scheduler tick moves on: those with a rollout in flight or a `previous` kept ready.
    public static func modelsToAdvance(_ tx: StoreTransaction) throws -> [String] {
        try String.fetchAll(tx.db, sql: """
            SELECT model_name FROM rollouts WHERE \(inFlightStates)
            UNION SELECT name FROM registered_model_aliases WHERE alias = 'previous'
            """)
    }

    /// The model of the oldest rollout on record, if any.
    public static func firstModel(_ tx: StoreTransaction) throws -> String? {
        try String.fetchOne(tx.db, sql: "SELECT model_name FROM rollouts ORDER BY started_time LIMIT 1")
    }

    /// Every rollout event in (`from`, `to`], oldest first, with its rollout's candidate.
    public static func events(_ tx: StoreTransaction, after from: Int64, upTo to: Int64) throws -> [(event: String, toState: String, candidate: Int)] {
        try Row.fetchAll(tx.db, sql: """
            SELECT e.event, e.to_state, r.candidate_version FROM rollout_events e JOIN rollouts r ON r.id = e.rollout_id
            WHERE e.time > ? AND e.time <= ? ORDER BY e.id
            """, arguments: [from, to]).map { ($0["event"], $0["to_state"], $0["candidate_version"]) }
    }
}

import Foundation

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
        try store.read { try Self.inFlight($0, model) }
    }

    static func inFlight(_ tx: StoreTransaction, _ model: String) throws -> Rollout? {
        try RolloutRecords.inFlight(tx, model).map(Rollout.init(row:))
    }

    /// The model's newest rollout, whatever its state.
    public func latest(_ model: String) throws -> Rollout? {
        try store.read { try RolloutRecords.latest($0, model).map(Rollout.init(row:)) }
    }

    /// Each model's newest rollout, or every rollout of `model`, newest first.
    public func list(model: String? = nil) throws -> [Rollout] {
        try store.read { try RolloutRecords.list($0, model: model).map(Rollout.init(row:)) }
    }

    public func rollout(_ id: String) throws -> Rollout? {
        try store.read { try RolloutRecords.rollout($0, id).map(Rollout.init(row:)) }
    }

    public func events(_ rolloutID: String) throws -> [RolloutEventRecord] {
        try store.read { try RolloutRecords.events($0, rolloutID) }
    }

    // MARK: Writing

    /// Records a new rollout as pending. Refused while another rollout of the model is in flight.
    public func create(model: String, candidate: Int, stable: Int?, plan: RolloutPlan, jobRunID: String?, now: Int64) throws -> Rollout {
        let id = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let planText = String(decoding: try JSONEncoder().encode(plan), as: UTF8.self)
        return try store.write { tx in
            if let current = try Self.inFlight(tx, model) {
                throw RolloutError("model \(model) has a rollout of v\(current.candidateVersion) in flight (\(current.state.name)); "
                    + "wait for it, `mlops abort \(model)`, or set `in_flight: supersede` on the deploy stage")
            }
            let detail = "v\(candidate) against " + (stable.map { "v\($0)" } ?? "no champion") + ", \(plan.strategy)"
            return try Rollout(row: RolloutRecords.insert(tx, id: id, model: model, candidate: candidate, stable: stable, strategy: plan.strategy,
                                                          planJSON: planText, jobRunID: jobRunID, detail: detail, now: now))
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
        try store.write { tx in
            guard let stored = try RolloutRecords.rolloutForTransition(tx, id) else {
                throw RolloutError("no rollout \(id)")
            }
            let rollout = try Rollout(row: stored)
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
            try sideEffects(tx, rollout, updated: &updated, reason: reasonText ?? "", rollbackTo: rollbackTo, now: now)
            var update = updated.stateUpdate
            update.step = updated.step ?? rollout.step ?? 0
            update.updatedTime = now
            try RolloutRecords.update(tx, update, from: stored)
            let name = RolloutMachine.eventName(event)
            if next != rollout.state || rollbackTo != nil {
                try RolloutRecords.appendEvent(tx, id: id, model: rollout.model, event: name, from: rollout.state.name, to: next.name,
                                               step: updated.step, weight: updated.weight, detail: reasonText, now: now)
            }
            if next != rollout.state { try announce(tx, rollout, updated, detail: reasonText, now: now) }
            return Transition(rollout: updated, from: rollout.state, event: name, detail: reasonText)
        }
    }

    /// Puts the events a transition is worth into the outbox, in its transaction.
    func announce(_ tx: StoreTransaction, _ before: Rollout, _ after: Rollout, detail: String?, now: Int64) throws {
        let job = try before.jobRunID.flatMap { try Tracker.job(tx, ofRun: $0) }
        let subject = "\(before.model) v\(before.candidateVersion)"
        let details: [String: Any] = ["rollout": after.jsonObject, "detail": detail as Any]
        func send(_ event: NotifyEvent, _ summary: String) throws {
            try Outbox.enqueue(tx, event, job: job, model: before.model, summary: summary, details: details, now: now)
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
    func sideEffects(_ tx: StoreTransaction, _ before: Rollout, updated: inout Rollout, reason: String, rollbackTo: Int?, now: Int64) throws {
        // Rolling back what is rolled back moves nothing (unless a person names the version).
        if before.state == updated.state, rollbackTo == nil { return }
        let model = before.model, candidate = before.candidateVersion
        let why = "rollout \(before.id.prefix(8)) of v\(candidate): "
        switch updated.state {
        case .progressing where before.state == .pending:
            try RegistryRecords.moveAlias(tx, model, .challenger, to: candidate, reason: why + "started", now: now)
        case .promoted where before.state != .promoted:
            try RegistryRecords.moveAlias(tx, model, .champion, to: candidate, reason: why + "promoted", now: now)
            try RegistryRecords.removeAlias(tx, model, .challenger, reason: why + "promoted")
            try RegistryRecords.tag(tx, model, candidate, "rollout", "promoted")
            updated.promotedTime = now
            updated.finishedTime = now
            if let stable = before.stableVersion, let keep = before.plan.keepPreviousForMillis, keep > 0 {
                try RegistryRecords.moveAlias(tx, model, .previous, to: stable, reason: why + "keeps v\(stable) ready for \(SpecDuration(milliseconds: keep))", now: now)
                updated.previousUntil = now + keep
            }
        case .aborted:
            try RegistryRecords.tag(tx, model, candidate, "rollout", "aborted")
        case .rolledBack:
            let champion = try RegistryRecords.version(tx, model, alias: .champion)
            if let target = rollbackTo ?? before.stableVersion {
                let status = try RegistryRecords.version(tx, model, target)?.status
                guard status == .ready else {
                    throw RolloutError("cannot roll \(model) back to v\(target): it is \(status?.rawValue ?? "not registered"), not READY")
                }
                try RegistryRecords.moveAlias(tx, model, .champion, to: target, reason: why + "rolled back: \(reason)", now: now)
            } else if champion == candidate {
                try RegistryRecords.removeAlias(tx, model, .champion, reason: why + "rolled back with no earlier version: \(reason)")
            }
            try RegistryRecords.removeAlias(tx, model, .challenger, reason: why + "rolled back")
            try RegistryRecords.removeAlias(tx, model, .previous, reason: why + "rolled back")
            try RegistryRecords.tag(tx, model, candidate, "rollout", "rolled_back")
            try RegistryRecords.tag(tx, model, candidate, "rollback_reason", reason)
            updated.previousUntil = nil
            updated.finishedTime = now
        default:
            break
        }
    }

    /// Releases the version blue-green kept ready, once `keep_previous_for` has passed.
    public func releasePrevious(_ id: String, now: Int64) throws -> Bool {
        try store.write { tx in
            guard let rollout = try RolloutRecords.rollout(tx, id).map(Rollout.init(row:)),
                  let until = rollout.previousUntil, until <= now else { return false }
            try RegistryRecords.removeAlias(tx, rollout.model, .previous, reason: "rollout \(id.prefix(8)): keep_previous_for has passed")
            try RolloutRecords.clearPreviousUntil(tx, id, now: now)
            try RolloutRecords.appendEvent(tx, id: id, model: rollout.model, event: "release_previous", from: rollout.state.name, to: rollout.state.name,
                                           step: nil, weight: rollout.weight, detail: "v\(rollout.stableVersion.map(String.init) ?? "?") no longer kept ready", now: now)
            return true
        }
    }

    /// Keeps the latest analysis on the row; not a transition, so no event.
    func saveAnalysis(_ id: String, _ result: RolloutAnalysis.Result) throws {
        let text = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
        try store.write { tx in try RolloutRecords.saveAnalysis(tx, id, json: text) }
    }
}

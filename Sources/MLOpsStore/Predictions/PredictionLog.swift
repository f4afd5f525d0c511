import Foundation

/// Predictions and the outcomes that arrive for them later: what a rollout's analysis and the
/// monitors count. Writes are batched, one transaction a batch, with a prepared statement.
public struct PredictionLog: Sendable {
    public let store: Store

    public init(store: Store) { self.store = store }

    /// One prediction to record.
    public struct Entry: Sendable, Hashable {
        public var id: Int64?
        public var runID: String
        public var model: String
        public var version: Int
        public var entity: String
        public var period: Int?
        public var score: Double
        public var contacted: Bool
        public var holdout: Bool
        public var time: Int64
        public var rolloutID: String?

        public init(id: Int64? = nil, runID: String, model: String, version: Int, entity: String, period: Int? = nil, score: Double,
                    contacted: Bool = true, holdout: Bool = false, time: Int64, rolloutID: String? = nil) {
            self.id = id
            self.runID = runID
            self.model = model
            self.version = version
            self.entity = entity
            self.period = period
            self.score = score
            self.contacted = contacted
            self.holdout = holdout
            self.time = time
            self.rolloutID = rolloutID
        }
    }

    /// Records `entries` in one transaction; entries without an id get the next ones.
    @discardableResult
    public func record(_ entries: [Entry]) throws -> [Int64] {
        guard !entries.isEmpty else { return [] }
        return try store.write { try Self.record($0, entries) }
    }

    /// Records `entries` in the caller's transaction (a scoring run writes its drift beside them).
    @discardableResult
    public static func record(_ tx: StoreTransaction, _ entries: [Entry]) throws -> [Int64] {
        let db = tx.db
        // Entries that come with ids (the server reserved them) go in as a batch; the others are
        // given the next ids by the database, and say which.
        let columns = "run_uuid, model_name, model_version, entity_id, period, score, contacted, holdout, created_time, rollout_id"
        if entries.allSatisfy({ $0.id != nil }) {
            try db.executeMany(sql: "INSERT INTO predictions (id, \(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows: entries.map { e in
                [.integer(e.id!), .text(e.runID), .text(e.model), .integer(Int64(e.version)), .text(e.entity), SQLValue(binding: e.period),
                 SQLValue(binding: e.score), SQLValue(binding: e.contacted), SQLValue(binding: e.holdout), .integer(e.time), SQLValue(binding: e.rolloutID)]
            })
            return entries.map { $0.id! }
        }
        var ids: [Int64] = []
        ids.reserveCapacity(entries.count)
        for e in entries {
            let values: SQLArguments = [e.runID, e.model, e.version, e.entity, e.period, e.score, e.contacted, e.holdout, e.time, e.rolloutID]
            let id = if let given = e.id {
                try Int64.fetchOne(db, sql: "INSERT INTO predictions (id, \(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                                   arguments: [given] + values)
            } else {
                try Int64.fetchOne(db, sql: "INSERT INTO predictions (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id", arguments: values)
            }
            guard let id else { throw StoreError("a prediction for \(e.entity) was not given an id") }
            ids.append(id)
        }
        return ids
    }

    /// One label from a history of outcomes: an entity's outcome in a period.
    public struct Label: Sendable, Hashable {
        public var entity: String
        public var period: Int
        public var label: Bool
        public init(entity: String, period: Int, label: Bool) {
            self.entity = entity
            self.period = period
            self.label = label
        }
    }

    /// Attaches labels to `model`'s predictions that still wait for one, matched by entity and
    /// period; a label already recorded is kept. Only periods with a prediction still waiting are
    /// looked up. Returns how many were recorded, and the contacted ones among them with their hits.
    public static func attachLabels(_ tx: StoreTransaction, model: String, _ labels: [Label], now: Int64) throws
        -> (recorded: Int, contacted: Int, hits: Int) {
        let db = tx.db
        let waiting = try db.cachedStatement(sql: """
            SELECT EXISTS (SELECT 1 FROM predictions p WHERE p.model_name = ? AND p.period = ?
                           AND NOT EXISTS (SELECT 1 FROM outcomes o WHERE o.prediction_id = p.id))
            """)
        var open = Set<Int>()
        for period in Set(labels.map(\.period)) where try Bool.fetchOne(waiting, arguments: [model, period]) == true {
            open.insert(period)
        }
        let attach = try db.cachedStatement(sql: """
            INSERT INTO outcomes (prediction_id, label, observed_time, recorded_time)
            SELECT id, ?, ?, ? FROM predictions \(db.dialect == .sqlite ? "INDEXED BY predictions_by_entity" : "") WHERE model_name = ? AND entity_id = ? AND period = ? AND true
            ON CONFLICT (prediction_id) DO NOTHING
            """)
        var recorded = 0
        for label in labels where open.contains(label.period) {
            try attach.execute(arguments: [label.label, now, now, model, label.entity, label.period])
            recorded += db.changesCount
        }
        let row = try Row.fetchOne(db, sql: """
            SELECT COUNT(*) AS n, COALESCE(SUM(o.label), 0) AS hits FROM outcomes o JOIN predictions p ON p.id = o.prediction_id
            WHERE p.model_name = ? AND o.recorded_time = ? AND p.contacted = 1 AND p.holdout = 0
            """, arguments: [model, now])
        return (recorded, row?["n"] ?? 0, row?["hits"] ?? 0)
    }

    /// Reserves `count` prediction ids, so a server can answer with an id before the batch that
    /// holds it is written. The ids come from the table's own sequence, moved past the block, so
    /// another writer (a batch scoring run) cannot take one of them: SQLite's AUTOINCREMENT never
    /// hands out an id at or below `sqlite_sequence`; on PostgreSQL the identity's sequence is moved
    /// while the table is locked against inserts, so no insert can draw from inside the block.
    public func reserveIDs(_ count: Int) throws -> Range<Int64> {
        try store.write { tx in
            let db = tx.db
            switch db.dialect {
            case .sqlite:
                let max = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM predictions") ?? 0
                let sequence = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'predictions'")
                let first = Swift.max(max, sequence ?? 0) + 1
                let last = first + Int64(count) - 1
                if sequence == nil {
                    try db.execute(sql: "INSERT INTO sqlite_sequence (name, seq) VALUES ('predictions', ?)", arguments: [last])
                } else {
                    try db.execute(sql: "UPDATE sqlite_sequence SET seq = ? WHERE name = 'predictions'", arguments: [last])
                }
                return first..<(last + 1)
            case .postgresql:
                try db.execute(sql: "LOCK TABLE predictions IN SHARE ROW EXCLUSIVE MODE")
                guard let last = try Int64.fetchOne(db, sql: """
                    SELECT setval(pg_get_serial_sequence('predictions', 'id'), nextval(pg_get_serial_sequence('predictions', 'id')) + ? - 1)
                    """, arguments: [count]) else { throw StoreError("the predictions' id sequence is missing") }
                return (last - Int64(count) + 1)..<(last + 1)
            }
        }
    }

    /// Records a prediction's label; a later label for the same prediction replaces it.
    public static func saveOutcome(_ tx: StoreTransaction, predictionID: Int64, label: Bool, observedTime: Int64, now: Int64) throws {
        let db = tx.db
        try db.cachedStatement(sql: """
            INSERT INTO outcomes (prediction_id, label, observed_time, recorded_time) VALUES (?, ?, ?, ?)
            ON CONFLICT (prediction_id) DO UPDATE SET label = excluded.label, observed_time = excluded.observed_time, recorded_time = excluded.recorded_time
            """).execute(arguments: [predictionID, label, observedTime, now])
    }

    public enum OutcomeTarget: Sendable, Hashable {
        case prediction(Int64)
        /// The entity's latest prediction (of `model`, when given).
        case entity(String, model: String?)
    }

    public struct OutcomeError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Records a label for a prediction; a later label for the same prediction replaces it.
    /// Returns the prediction it was attached to.
    @discardableResult
    public func recordOutcome(_ target: OutcomeTarget, label: Bool, observedTime: Int64, now: Int64? = nil) throws -> Int64 {
        let now = now ?? store.nowMillis()
        return try store.write { tx in
            let db = tx.db
            let predictionID: Int64?
            switch target {
            case let .prediction(id):
                predictionID = try Int64.fetchOne(db, sql: "SELECT id FROM predictions WHERE id = ?", arguments: [id])
            case let .entity(entity, model):
                predictionID = try Int64.fetchOne(db, sql: """
                    SELECT id FROM predictions WHERE entity_id = ? AND (CAST(? AS TEXT) IS NULL OR model_name = ?) ORDER BY created_time DESC, id DESC LIMIT 1
                    """, arguments: [entity, model, model])
            }
            guard let predictionID else {
                switch target {
                case let .prediction(id): throw OutcomeError(description: "no prediction \(id)")
                case let .entity(entity, model): throw OutcomeError(description: "no prediction for entity '\(entity)'" + (model.map { " of model \($0)" } ?? ""))
                }
            }
            try Self.saveOutcome(tx, predictionID: predictionID, label: label, observedTime: observedTime, now: now)
            return predictionID
        }
    }
}

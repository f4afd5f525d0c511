import Foundation
import MLOpsText

/// Finds runs by MLflow's filter and order-by grammar, compiled to one SQL query over indexed
/// tables (latest metrics, params, tags).
public struct RunSearch: Sendable {
    public var kind: RunKind? = .job
    public var job: String?
    public var status: RunStatus?
    public var filter: RunFilter?
    public var orderBy: [OrderTerm] = []
    public var limit: Int = 20
    public var experimentIDs: [Int64]?
    /// Rows to skip: a page token's position.
    public var offset: Int = 0
    /// Where the page starts: after the run whose sort values these are (keyset paging: a page
    /// costs the same at any depth, and runs added meanwhile do not shift it).
    public var after: Cursor?
    /// MLflow's view type: active runs, deleted ones, or both.
    public var lifecycleStages: [String] = ["active"]

    public init(kind: RunKind? = .job, job: String? = nil, status: RunStatus? = nil, filter: RunFilter? = nil,
                orderBy: [OrderTerm] = [], limit: Int = 20) {
        self.kind = kind
        self.job = job
        self.status = status
        self.filter = filter
        self.orderBy = orderBy
        self.limit = limit
    }

    public struct OrderTerm: Sendable, Hashable {
        public var entity: RunFilter.Entity
        public var key: String
        public var ascending: Bool

        /// `metrics.auc DESC`, `attributes.start_time`, `params.l2 ASC`, comma-separated.
        public static func parseList(_ text: String) throws(RunFilter.ParseError) -> [OrderTerm] {
            var terms: [OrderTerm] = []
            var offset = 0
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                let column = offset + (part.prefix { $0 == " " }.count) + 1
                offset += part.count + 1
                let words = part.split(separator: " ")
                func fail(_ message: String, hint: String? = nil) -> RunFilter.ParseError {
                    RunFilter.ParseError(message: message, column: column, source: text, hint: hint)
                }
                guard let first = words.first else { throw fail("empty order-by term") }
                guard words.count <= 2 else { throw fail("expected KEY [ASC|DESC]", hint: "e.g. metrics.auc DESC") }
                var ascending = true
                if words.count == 2 {
                    switch words[1].uppercased() {
                    case "ASC": ascending = true
                    case "DESC": ascending = false
                    default: throw fail("'\(words[1])' is neither ASC nor DESC")
                    }
                }
                var ident = String(first)
                if !ident.contains(".") { ident = "attributes.\(ident)" }
                let dot = ident.firstIndex(of: ".")!
                guard let entity = RunFilter.entityNames[ident[..<dot].lowercased()] else {
                    throw fail("unknown prefix '\(ident[..<dot])'", hint: "use metrics., params., tags. or attributes.")
                }
                var key = String(ident[ident.index(after: dot)...])
                if key.count >= 2, let q = key.first, "`\"".contains(q), key.last == q { key = String(key.dropFirst().dropLast()) }
                if entity == .attribute, !RunFilter.attributes.contains(key) {
                    throw fail("unknown attribute '\(key)'", hint: Suggestion.hint(for: key, in: RunFilter.attributes))
                }
                terms.append(OrderTerm(entity: entity, key: key, ascending: ascending))
            }
            return terms
        }
    }

    /// A run's place in a search's order: its value for each order term (NULL where it has none),
    /// then its start time and id, the order's last two keys.
    public struct Cursor: Sendable, Hashable {
        public var values: [SQLValue]

        public init(values: [SQLValue]) { self.values = values }

        /// The cursor as a URL-safe token (base64url of a JSON list), and back.
        public var token: String {
            let items: [String] = values.map { value in
                switch value {
                case .null: return "n"
                case let .integer(v): return "i\(v)"
                case let .real(v): return "r\(v)"
                case let .text(v): return "t\(v)"
                case let .blob(v): return "b" + Data(v).base64EncodedString()
                }
            }
            let json = (try? JSONSerialization.data(withJSONObject: items)) ?? Data("[]".utf8)
            return json.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }

        public init?(token: String) {
            var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
            guard let data = Data(base64Encoded: base64), let items = (try? JSONSerialization.jsonObject(with: data)) as? [String] else { return nil }
            var values: [SQLValue] = []
            for item in items {
                let body = String(item.dropFirst())
                switch item.first {
                case "n": values.append(.null)
                case "i": guard let v = Int64(body) else { return nil }; values.append(.integer(v))
                case "r": guard let v = Double(body) else { return nil }; values.append(.real(v))
                case "t": values.append(.text(body))
                case "b": guard let v = Data(base64Encoded: body) else { return nil }; values.append(.blob([UInt8](v)))
                default: return nil
                }
            }
            self.values = values
        }
    }

    /// The cursor of each run a search returns, in order: the next page starts after the last one.
    public func cursors(_ tx: StoreTransaction, of runs: [RunRecord]) throws -> [Cursor] {
        guard !runs.isEmpty else { return [] }
        let keys = sortKeys(tx.dialect)
        let select = keys.enumerated().map { "\($0.element.sql) AS k\($0.offset)" }.joined(separator: ", ")
        var cursors: [Cursor] = []
        for run in runs {
            let row = try Row.fetchOne(tx.db, sql: "SELECT \(select) FROM runs WHERE runs.run_uuid = ?",
                                       arguments: keys.flatMap(\.arguments) + [run.id])
            cursors.append(Cursor(values: keys.indices.map { row?.value("k\($0)") ?? .null }))
        }
        return cursors
    }

    /// One key of the order, as SQL with the arguments its placeholders take.
    struct SortKey {
        var sql: String
        var ascending: Bool
        var arguments: SQLArguments = []
    }

    /// The order's keys: the terms asked for, then start time (newest first) and id, so it is total.
    func sortKeys(_ dialect: SQLDialect) -> [SortKey] {
        var keys: [SortKey] = orderBy.map { term in
            switch term.entity {
            case .metric: SortKey(sql: "(SELECT value FROM latest_metrics WHERE run_uuid = runs.run_uuid AND key = ? AND is_nan = 0)", ascending: term.ascending, arguments: [term.key])
            case .param: SortKey(sql: "(SELECT value FROM params WHERE run_uuid = runs.run_uuid AND key = ?)", ascending: term.ascending, arguments: [term.key])
            case .tag: SortKey(sql: "(SELECT value FROM tags WHERE run_uuid = runs.run_uuid AND key = ?)", ascending: term.ascending, arguments: [term.key])
            case .attribute: SortKey(sql: Self.attributeColumn(term.key, dialect), ascending: term.ascending)
            }
        }
        keys += [SortKey(sql: "runs.start_time", ascending: false), SortKey(sql: "runs.run_uuid", ascending: true)]
        return keys
    }

    /// Rows that sort after `cursor`, NULLs last in either direction: for some key, every key before
    /// it equal and that key after the cursor's value.
    static func afterClause(_ cursor: Cursor, _ keys: [SortKey]) -> (String, SQLArguments) {
        var alternatives: [String] = []
        var args: SQLArguments = []
        // Nothing sorts after NULL but another NULL, which the keys after it order.
        for i in keys.indices where i < cursor.values.count && cursor.values[i] != .null {
            var parts: [String] = []
            for j in 0..<i {
                if cursor.values[j] == .null { parts.append("\(keys[j].sql) IS NULL") } else { parts.append("\(keys[j].sql) = ?") }
                args += keys[j].arguments
                if cursor.values[j] != .null { args.append(cursor.values[j]) }
            }
            parts.append("(\(keys[i].sql) \(keys[i].ascending ? ">" : "<") ? OR \(keys[i].sql) IS NULL)")
            args += keys[i].arguments + [cursor.values[i]] + keys[i].arguments
            alternatives.append("(" + parts.joined(separator: " AND ") + ")")
        }
        return (alternatives.isEmpty ? "0 = 1" : "(" + alternatives.joined(separator: " OR ") + ")", args)
    }

    package static func attributeColumn(_ key: String, _ dialect: SQLDialect) -> String {
        switch key {
        case "run_id", "run_uuid": return "runs.run_uuid"
        case "run_name": return "runs.name"
        case "created": return "runs.start_time"
        case "duration":
            let now = dialect == .sqlite ? "CAST(strftime('%s','now') AS INTEGER) * 1000" : "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
            return "(COALESCE(runs.end_time, \(now)) - runs.start_time)"
        default: return "runs.\(key)"
        }
    }

    /// MLflow's LIKE is case-sensitive, SQLite's is not: on SQLite it becomes GLOB.
    package static func globPattern(_ like: String) -> String {
        var out = ""
        for c in like {
            switch c {
            case "%": out += "*"
            case "_": out += "?"
            case "*": out += "[*]"
            case "?": out += "[?]"
            case "[": out += "[[]"
            default: out.append(c)
            }
        }
        return out
    }

    public func compile(for dialect: SQLDialect) -> (String, SQLArguments) {
        var clauses: [String] = ["runs.lifecycle_stage IN (\(lifecycleStages.map { _ in "?" }.joined(separator: ",")))"]
        var args: SQLArguments = lifecycleStages
        if let kind { clauses.append("runs.kind = ?"); args.append(kind.rawValue) }
        if let job { clauses.append("runs.job = ?"); args.append(job) }
        if let status { clauses.append("runs.status = ?"); args.append(status.rawValue) }
        if let experimentIDs {
            clauses.append("runs.experiment_id IN (\(experimentIDs.map { _ in "?" }.joined(separator: ",")))")
            args += experimentIDs.map { $0 as (any SQLValueConvertible)? }
        }
        for comparison in filter?.comparisons ?? [] {
            let (expression, valueArgs) = Self.comparisonSQL(comparison, column: "x.value", dialect)
            switch comparison.entity {
            case .metric:
                clauses.append("EXISTS (SELECT 1 FROM latest_metrics x WHERE x.run_uuid = runs.run_uuid AND x.key = ? AND x.is_nan = 0 AND \(expression))")
                args.append(comparison.key)
            case .param:
                clauses.append("EXISTS (SELECT 1 FROM params x WHERE x.run_uuid = runs.run_uuid AND x.key = ? AND \(expression))")
                args.append(comparison.key)
            case .tag:
                clauses.append("EXISTS (SELECT 1 FROM tags x WHERE x.run_uuid = runs.run_uuid AND x.key = ? AND \(expression))")
                args.append(comparison.key)
            case .attribute:
                let (attributeExpression, _) = Self.comparisonSQL(comparison, column: Self.attributeColumn(comparison.key, dialect), dialect)
                clauses.append(attributeExpression)
            }
            args += valueArgs
        }
        let keys = sortKeys(dialect)
        if let after {
            let (clause, afterArgs) = Self.afterClause(after, keys)
            clauses.append(clause)
            args += afterArgs
        }
        let order = keys.map { "\($0.sql) \($0.ascending ? "ASC" : "DESC") NULLS LAST" }
        args += keys.flatMap(\.arguments)
        let sql = "SELECT runs.* FROM runs WHERE \(clauses.joined(separator: " AND ")) ORDER BY \(order.joined(separator: ", ")) LIMIT ? OFFSET ?"
        args += [limit, offset]
        return (sql, args)
    }

    public static func comparisonSQL(_ c: RunFilter.Comparison, column: String, _ dialect: SQLDialect) -> (String, SQLArguments) {
        switch (c.comparator, c.value) {
        case let (op, .number(n)): return ("\(column) \(op) ?", [n])
        case let ("LIKE", .string(s)) where dialect == .sqlite: return ("\(column) GLOB ?", [globPattern(s)])
        case let ("ILIKE", .string(s)) where dialect == .sqlite: return ("LOWER(\(column)) GLOB ?", [globPattern(s.lowercased())])
        case let ("LIKE", .string(s)): return ("\(column) LIKE ?", [s])
        case let ("ILIKE", .string(s)): return ("\(column) ILIKE ?", [s])
        case let ("IN", .list(items)), let ("NOT IN", .list(items)):
            let placeholders = items.map { _ in "?" }.joined(separator: ",")
            return ("\(column) \(c.comparator) (\(placeholders.isEmpty ? "NULL" : placeholders))", items)
        case let (op, .string(s)): return ("\(column) \(op) ?", [s])
        default: return ("0", [])
        }
    }

    public func run(_ store: Store) throws -> [RunRecord] {
        try store.read { try run($0) }
    }

    public func run(_ tx: StoreTransaction) throws -> [RunRecord] {
        let (sql, args) = compile(for: tx.dialect)
        return try RunRecord.fetchAll(tx.db, sql: sql, arguments: args)
    }

    /// Latest metrics of many runs in one query, for listings.
    public static func latestMetrics(_ store: Store, runIDs: [String]) throws -> [String: [MetricPoint]] {
        guard !runIDs.isEmpty else { return [:] }
        return try store.read { try latestMetrics($0, runIDs: runIDs) }
    }

    public static func latestMetrics(_ tx: StoreTransaction, runIDs: [String]) throws -> [String: [MetricPoint]] {
        guard !runIDs.isEmpty else { return [:] }
        var result: [String: [MetricPoint]] = [:]
        let rows = try Row.fetchAll(tx.db, sql: """
            SELECT run_uuid, key, value, timestamp, step, is_nan FROM latest_metrics
            WHERE run_uuid IN (\(runIDs.map { _ in "?" }.joined(separator: ","))) ORDER BY timestamp DESC, key
            """, arguments: runIDs)
        for row in rows {
            result[row["run_uuid"], default: []].append(MetricPoint(row: row))
        }
        return result
    }
}

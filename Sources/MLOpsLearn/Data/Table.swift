/// Columns of equal length: numbers (NaN where missing) or category names. The shape every
/// learner and metric here reads.
public struct Table: Sendable, Equatable {
    public enum Column: Sendable, Equatable {
        case numeric([Double])
        case categorical([String])

        public var count: Int {
            switch self {
            case let .numeric(values): return values.count
            case let .categorical(values): return values.count
            }
        }
    }

    public private(set) var names: [String] = []
    public private(set) var columns: [Column] = []

    public init() {}

    public var rowCount: Int { columns.first?.count ?? 0 }

    public mutating func append(_ name: String, _ column: Column) {
        precondition(columns.isEmpty || column.count == rowCount, "column \(name) has \(column.count) rows, the table \(rowCount)")
        precondition(!names.contains(name), "the table already has a column \(name)")
        names.append(name)
        columns.append(column)
    }

    public func column(_ name: String) -> Column? {
        names.firstIndex(of: name).map { columns[$0] }
    }

    public func numeric(_ name: String) -> [Double]? {
        if case let .numeric(values)? = column(name) { return values }
        return nil
    }

    public func categorical(_ name: String) -> [String]? {
        if case let .categorical(values)? = column(name) { return values }
        return nil
    }

    /// The rows at `indices`, in that order.
    public func rows(_ indices: [Int]) -> Table {
        var out = Table()
        for (name, column) in zip(names, columns) {
            switch column {
            case let .numeric(values): out.append(name, .numeric(indices.map { values[$0] }))
            case let .categorical(values): out.append(name, .categorical(indices.map { values[$0] }))
            }
        }
        return out
    }

    /// This table's rows followed by `other`'s; the columns must match.
    public func appending(_ other: Table) -> Table {
        if rowCount == 0 && names.isEmpty { return other }
        precondition(names == other.names, "tables with different columns")
        var out = Table()
        for (i, name) in names.enumerated() {
            switch (columns[i], other.columns[i]) {
            case let (.numeric(a), .numeric(b)): out.append(name, .numeric(a + b))
            case let (.categorical(a), .categorical(b)): out.append(name, .categorical(a + b))
            default: preconditionFailure("column \(name) changes type")
            }
        }
        return out
    }
}

import Foundation

/// A value as it crosses into or out of a database: the five storage classes both backends share.
/// Owners bind Swift values and read them back through `SQLValueConvertible`; a backend maps these
/// to its own types (SQLite's storage classes, PostgreSQL's int8, float8, text and bytea).
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// A Swift type that is stored as one `SQLValue`.
public protocol SQLValueConvertible {
    var sqlValue: SQLValue { get }
    /// Nil when the stored value cannot be this type.
    init?(sqlValue: SQLValue)
}

/// The values bound to a statement's `?` placeholders, in order; nil binds NULL.
public typealias SQLArguments = [(any SQLValueConvertible)?]

extension SQLValue {
    init(binding value: (any SQLValueConvertible)?) {
        self = value?.sqlValue ?? .null
    }
}

extension Int64: SQLValueConvertible {
    public var sqlValue: SQLValue { .integer(self) }
    public init?(sqlValue: SQLValue) {
        switch sqlValue {
        case let .integer(v): self = v
        case let .real(v) where v.rounded() == v && abs(v) < 9.2e18: self = Int64(v)
        case let .text(t): guard let v = Int64(t) else { return nil }; self = v
        default: return nil
        }
    }
}

extension Int: SQLValueConvertible {
    public var sqlValue: SQLValue { .integer(Int64(self)) }
    public init?(sqlValue: SQLValue) {
        guard let v = Int64(sqlValue: sqlValue) else { return nil }
        self = Int(v)
    }
}

extension Int32: SQLValueConvertible {
    public var sqlValue: SQLValue { .integer(Int64(self)) }
    public init?(sqlValue: SQLValue) {
        guard let v = Int64(sqlValue: sqlValue), let narrow = Int32(exactly: v) else { return nil }
        self = narrow
    }
}

extension Bool: SQLValueConvertible {
    public var sqlValue: SQLValue { .integer(self ? 1 : 0) }
    public init?(sqlValue: SQLValue) {
        guard let v = Int64(sqlValue: sqlValue) else { return nil }
        self = v != 0
    }
}

extension Double: SQLValueConvertible {
    /// NaN is bound as NULL on both backends, as SQLite has always stored it; tables that keep
    /// NaN say so in a flag column beside the value.
    public var sqlValue: SQLValue { isNaN ? .null : .real(self) }
    public init?(sqlValue: SQLValue) {
        switch sqlValue {
        case let .real(v): self = v
        case let .integer(v): self = Double(v)
        case let .text(t): guard let v = Double(t) else { return nil }; self = v
        default: return nil
        }
    }
}

extension String: SQLValueConvertible {
    public var sqlValue: SQLValue { .text(self) }
    public init?(sqlValue: SQLValue) {
        switch sqlValue {
        case let .text(t): self = t
        case let .integer(v): self = String(v)
        case let .real(v): self = String(v)
        case let .blob(b): self = String(decoding: b, as: UTF8.self)
        case .null: return nil
        }
    }
}

extension Substring: SQLValueConvertible {
    public var sqlValue: SQLValue { .text(String(self)) }
    public init?(sqlValue: SQLValue) {
        guard let s = String(sqlValue: sqlValue) else { return nil }
        self = Substring(s)
    }
}

extension Data: SQLValueConvertible {
    public var sqlValue: SQLValue { .blob([UInt8](self)) }
    public init?(sqlValue: SQLValue) {
        switch sqlValue {
        case let .blob(b): self = Data(b)
        case let .text(t): self = Data(t.utf8)
        default: return nil
        }
    }
}

extension SQLValue: SQLValueConvertible {
    public var sqlValue: SQLValue { self }
    public init?(sqlValue: SQLValue) { self = sqlValue }
}

extension RawRepresentable where RawValue: SQLValueConvertible {
    public var sqlValue: SQLValue { rawValue.sqlValue }
    public init?(sqlValue: SQLValue) {
        guard let raw = RawValue(sqlValue: sqlValue) else { return nil }
        self.init(rawValue: raw)
    }
}

import Foundation

/// Where a store lives: a SQLite file (the embedded default), or a PostgreSQL database named by a
/// `postgresql://user:password@host:port/database` URL, for a team that shares one store.
public enum StoreLocation: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)
    case postgresql(url: String)

    /// A `postgresql://` or `postgres://` URL selects PostgreSQL; anything else is a file path.
    public init(_ text: String) {
        let lower = text.lowercased()
        if lower.hasPrefix("postgresql://") || lower.hasPrefix("postgres://") {
            self = .postgresql(url: text)
        } else {
            self = .sqlite(path: text)
        }
    }

    public var isPostgreSQL: Bool {
        if case .postgresql = self { return true }
        return false
    }

    /// The path, or the URL with its password left out: what messages and listings show.
    public var description: String {
        switch self {
        case let .sqlite(path): return path
        case let .postgresql(url): return Self.redacted(url)
        }
    }

    /// `postgresql://user:secret@host/db` as `postgresql://user:***@host/db`.
    static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        guard let at = rest.lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") else { return url }
        return String(url[..<scheme.upperBound]) + rest[..<colon] + ":***" + rest[at...]
    }
}

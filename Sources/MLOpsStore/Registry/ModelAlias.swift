/// An alias of a registered model. Three are the rollouts' own (`champion` is served,
/// `challenger` is the candidate in flight, `previous` is the version blue-green keeps ready);
/// every other name is a user's, which the registry moves on request.
public struct ModelAlias: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }

    public static let champion: ModelAlias = "champion"
    public static let challenger: ModelAlias = "challenger"
    public static let previous: ModelAlias = "previous"

    /// Aliases that rollouts move and serving reads: a door outside the rollout may not move them
    /// while the rollout that owns them is in flight.
    public var isManagedByRollouts: Bool { self == .champion || self == .challenger || self == .previous }

    public var description: String { rawValue }
    public static func < (a: ModelAlias, b: ModelAlias) -> Bool { a.rawValue < b.rawValue }
}

/// A registry request that cannot be done as asked: what was wrong, and what to do instead.
public struct RegistryError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

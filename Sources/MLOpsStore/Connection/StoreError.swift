/// The store found itself in a state it should never be in (a row gone inside its own
/// transaction): said plainly, never a crash.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

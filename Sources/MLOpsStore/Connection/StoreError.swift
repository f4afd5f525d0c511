/// The store found itself in a state it should never be in (a row gone inside its own
/// transaction): said plainly, never a crash.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension StoreError {
    /// SQLite could not grow the store or its WAL.
    static func diskFull(_ path: String) -> StoreError {
        StoreError("the disk holding \(path) is full, so nothing more can be recorded; free space on it and run again "
                   + "(what was recorded before is intact)")
    }
}

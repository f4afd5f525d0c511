import Foundation
import Synchronization

/// Where "now" comes from for everything a store records: the wall clock, or a simulation's
/// virtual clock. It is passed in (a store carries the one it was opened with, and so does each of
/// its transactions), so `mlops simulate` replays a year in seconds through the real runner,
/// stages, monitors and rollouts, and a test sets the date it needs. Durations stay real.
public protocol TimeSource: Sendable {
    /// Milliseconds since 1970, as MLflow stores times.
    func nowMillis() -> Int64
    /// How far this clock is from the wall clock; a stage's own processes inherit it through
    /// `MLOPS_TIME_OFFSET_MS`, so `mlops log` inside a simulated stage records simulated times.
    var offsetMillis: Int64 { get }
}

extension TimeSource {
    public func now() -> Date { Date(timeIntervalSince1970: Double(nowMillis()) / 1000) }
}

/// The wall clock, shifted by a fixed offset: zero normally, the simulation's offset in the
/// processes a simulated stage starts.
public struct WallClock: TimeSource {
    public static let environmentKey = "MLOPS_TIME_OFFSET_MS"

    public let offsetMillis: Int64

    public init(offsetMillis: Int64 = 0) { self.offsetMillis = offsetMillis }

    /// The clock this process was started with: the wall clock, or a simulation's if its parent ran one.
    public static let process = WallClock(offsetMillis: ProcessInfo.processInfo.environment[environmentKey].flatMap { Int64($0) } ?? 0)

    public func nowMillis() -> Int64 { Self.wallMillis() + offsetMillis }

    static func wallMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}

/// A clock that a simulation moves: it reads exactly the time it was last set to, whatever time
/// passes meanwhile. A clock that advanced in real time from each setting let the milliseconds a
/// run happened to take decide whether a score fell before or after a week's end, or a baseline's
/// window had closed: the same seed gave different tables. (A stage process it starts gets the
/// offset, and its clock runs from there: what it records is its own.)
public final class VirtualClock: TimeSource {
    private let millis: Atomic<Int64>

    public init(now millis: Int64) { self.millis = Atomic(millis) }

    public var offsetMillis: Int64 { nowMillis() - WallClock.wallMillis() }

    public func nowMillis() -> Int64 { millis.load(ordering: .relaxed) }

    /// Makes the clock read `millis` until it is set again.
    public func set(now millis: Int64) { self.millis.store(millis, ordering: .relaxed) }
}

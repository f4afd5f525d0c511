import Foundation
import Synchronization

/// The seam between this process and the calendar: every "now" the store records goes through
/// `Store.nowMillis()`, which is the wall clock plus this offset. `mlops simulate` moves the offset
/// to replay a year in seconds, so the real runner, stages, monitors and rollouts see the simulated
/// date; durations stay real. A stage's own processes inherit it through `MLOPS_TIME_OFFSET_MS`.
public enum TimeShift {
    public static let environmentKey = "MLOPS_TIME_OFFSET_MS"
    package static let offset = Atomic<Int64>(ProcessInfo.processInfo.environment[environmentKey].flatMap { Int64($0) } ?? 0)

    /// Milliseconds added to the wall clock; 0 outside a simulation.
    public static var offsetMillis: Int64 { offset.load(ordering: .relaxed) }

    /// Makes `Store.nowMillis()` read `millis` now (and advance from there in real time).
    public static func set(now millis: Int64) {
        offset.store(millis - wallMillis(), ordering: .relaxed)
    }

    package static func wallMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}

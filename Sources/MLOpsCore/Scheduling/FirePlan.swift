import Foundation

/// Which fires of a schedule are due at `now`, given the last fire on record and the catch-up
/// policy: pure calendar arithmetic, so the daylight-saving and misfire cases are tested without a
/// daemon. A schedule with no fire on record starts from `since` (when the daemon first saw it):
/// a new daemon does not replay the past.
public struct FirePlan: Sendable, Equatable {
    /// Fires to start now, oldest first.
    public var start: [Date]
    /// Fires passed over, to record as missed.
    public var missed: [Date]

    /// A fire is on time when it is at most this late: a tick is late by up to its interval.
    public static let onTime: TimeInterval = 300

    public static func due(_ cron: CronExpression, in zone: TimeZone, after last: Date, now: Date, catchup: Catchup,
                           limit: Int = 1000) -> FirePlan {
        var fires: [Date] = []
        var cursor = last
        while fires.count < limit, let next = cron.next(after: cursor, in: zone), next <= now {
            fires.append(next)
            cursor = next
        }
        guard let newest = fires.last else { return FirePlan(start: [], missed: []) }
        switch catchup {
        case .all:
            return FirePlan(start: fires, missed: [])
        case .latest:
            return FirePlan(start: [newest], missed: Array(fires.dropLast()))
        case .none:
            let onTime = now.timeIntervalSince(newest) <= onTime
            return FirePlan(start: onTime ? [newest] : [], missed: onTime ? Array(fires.dropLast()) : fires)
        }
    }
}

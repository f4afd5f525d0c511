/// What started a job run: a person (`mlops run`), the schedule, or a monitor's retrain. Retrain
/// limits, `skip_if: { trigger: … }` and the run listings go by it.
public enum RunTrigger: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case manual
    case schedule
    case monitor

    public var description: String { rawValue }

    /// The names, for messages that list them.
    public static let names = allCases.map(\.rawValue)
}

/// Where a stage attempt runs, as its executor names it, so that another process (a runner that
/// took over a lease, the orphan reaper, a later scheduler) can ask that executor whether the
/// attempt still lives and stop it. A local process is named by its pid with its start time and
/// boot id (a pid alone is reused); a remote one by the id its executor gave it.
public enum AttemptHandle: Sendable, Hashable {
    case process(ProcessIdentity)
    case remote(executor: String, id: String)

    /// The executor that owns the attempt.
    public var executor: String {
        switch self {
        case .process: return "local"
        case let .remote(executor, _): return executor
        }
    }
}

extension RunRecord {
    /// The handle of the attempt this run records, if it started.
    public var attemptHandle: AttemptHandle? {
        if let executor, executor != "local", let id = executorHandle { return .remote(executor: executor, id: id) }
        guard let pid else { return nil }
        return .process(ProcessIdentity(pid: Int32(pid), startTime: pidStartTime, bootID: bootID, host: host ?? ""))
    }
}

/// What a running job reports as it goes, for a terminal or a log.
public enum RunEvent: Sendable {
    case jobStarted(runID: String, job: String, stages: Int, maxParallel: Int)
    case leaseTakenOver(from: JobLease.Holder)
    /// The heartbeat could not be renewed for `after`: the runner stopped its stages (fencing).
    case fenced(runID: String, after: Duration)
    case stageStarted(stage: String, attempt: Int, runID: String)
    /// An attempt whose runner died is followed again, by this process.
    case stageReattached(stage: String, runID: String, jobRunID: String)
    case stageFinished(stage: String, attempt: Int, termination: StageTermination, millis: Int64, retryIn: SpecDuration?)
    case stageSkipped(stage: String, reason: String)
    case stageReused(stage: String, from: String)
    case jobFinished(run: RunRecord)
}

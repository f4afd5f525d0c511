/// The events mlops announces.
public enum NotifyEvent: String, Sendable, CaseIterable {
    case runFailed = "run_failed"
    case gateFailed = "gate_failed"
    case rolloutStarted = "rollout_started"
    case rolloutPromoted = "rollout_promoted"
    case rolloutPaused = "rollout_paused"
    case rolloutRolledBack = "rollout_rolled_back"
    case monitorBreach = "monitor_breach"
    case retrainTriggered = "retrain_triggered"
}

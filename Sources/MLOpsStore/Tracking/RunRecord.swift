import Foundation

/// MLflow's run states, kept verbatim so MLflow's client and habits read our store unchanged.
public enum RunStatus: String, Codable, Sendable, CaseIterable {
    case running = "RUNNING"
    case scheduled = "SCHEDULED"
    case finished = "FINISHED"
    case failed = "FAILED"
    case killed = "KILLED"

    public var isTerminal: Bool { self == .finished || self == .failed || self == .killed }
}

/// Why a run ended the way it did: finer than `RunStatus`, which MLflow fixes.
public enum RunOutcome: String, Codable, Sendable {
    case succeeded
    case failed
    case timedOut = "timed_out"
    case killed
    /// Not started because its `needs` did not allow it (upstream failed, or a trigger rule said no).
    case skipped
    /// Taken from an earlier run by `--rerun --only-failed`.
    case reused
    /// Its process died without recording an end (the runner was killed, the machine rebooted).
    case orphaned

    public var status: RunStatus {
        switch self {
        case .succeeded, .reused: return .finished
        case .failed, .timedOut, .orphaned: return .failed
        case .killed, .skipped: return .killed
        }
    }
}

/// What a run is: a job execution (a parent run), one attempt of a stage (its child), or a plain run
/// created by a client of the tracking API.
public enum RunKind: String, Codable, Sendable {
    case job
    case stage
    case run
    /// One evaluation of a monitor: its hit rate, interval, baseline and drift as metrics.
    case monitor
}

/// A row of `runs`: MLflow's columns, then what orchestration adds.
public struct RunRecord: Codable, Sendable, RowDecodable, Hashable {
    public static let databaseTableName = "runs"

    public var id: String
    public var experimentID: Int64
    public var name: String?
    public var status: RunStatus
    public var startTime: Int64?
    public var endTime: Int64?
    public var lifecycleStage: String = "active"
    public var artifactURI: String?
    public var userID: String?
    public var parentRunID: String?
    public var kind: RunKind
    public var job: String?
    public var stage: String?
    public var attempt: Int?
    public var trigger: RunTrigger?
    public var outcome: RunOutcome?
    public var exitCode: Int?
    public var message: String?
    public var pid: Int?
    public var pidStartTime: Int64?
    public var bootID: String?
    public var host: String?
    public var heartbeatTime: Int64?
    /// The executor of a stage attempt that runs elsewhere than a local process, and its id there.
    public var executor: String?
    public var executorHandle: String?
    public var specSHA256: String?
    public var gitCommit: String?

    package enum CodingKeys: String, CodingKey {
        case id = "run_uuid", experimentID = "experiment_id", name, status, startTime = "start_time"
        case endTime = "end_time", lifecycleStage = "lifecycle_stage", artifactURI = "artifact_uri"
        case userID = "user_id", parentRunID = "parent_run_id", kind, job, stage, attempt, trigger, outcome
        case exitCode = "exit_code", message, pid, pidStartTime = "pid_start_time", bootID = "boot_id", host
        case executor, executorHandle = "executor_handle"
        case heartbeatTime = "heartbeat_time", specSHA256 = "spec_sha256", gitCommit = "git_commit"
    }

    public init(id: String = RunRecord.newID(), experimentID: Int64, name: String?, status: RunStatus,
                startTime: Int64?, kind: RunKind) {
        self.id = id
        self.experimentID = experimentID
        self.name = name
        self.status = status
        self.startTime = startTime
        self.kind = kind
    }

    /// Read by column rather than through Codable: listings and searches read a thousand runs at
    /// a time, and the decoder was a tenth of a search's time.
    public init(row: Row) throws {
        id = row["run_uuid"]
        experimentID = row["experiment_id"]
        name = row["name"]
        let statusText: String = row["status"], kindText: String = row["kind"]
        guard let status = RunStatus(rawValue: statusText), let kind = RunKind(rawValue: kindText) else {
            throw Tracker.TrackingError("run \(id) has status '\(statusText)' and kind '\(kindText)', which this mlops does not know")
        }
        self.status = status
        self.kind = kind
        startTime = row["start_time"]
        endTime = row["end_time"]
        lifecycleStage = row["lifecycle_stage"]
        artifactURI = row["artifact_uri"]
        userID = row["user_id"]
        parentRunID = row["parent_run_id"]
        job = row["job"]
        stage = row["stage"]
        attempt = row["attempt"]
        trigger = (row["trigger"] as String?).flatMap(RunTrigger.init(rawValue:))
        outcome = (row["outcome"] as String?).flatMap(RunOutcome.init(rawValue:))
        exitCode = row["exit_code"]
        message = row["message"]
        pid = row["pid"]
        pidStartTime = row["pid_start_time"]
        bootID = row["boot_id"]
        host = row["host"]
        heartbeatTime = row["heartbeat_time"]
        executor = row["executor"]
        executorHandle = row["executor_handle"]
        specSHA256 = row["spec_sha256"]
        gitCommit = row["git_commit"]
    }

    /// 32 lowercase hex characters, as MLflow's run ids.
    public static func newID() -> String {
        UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }

    public var shortID: String { String(id.prefix(8)) }

    /// A stage attempt's `stdout.log` and `stderr.log`, beside its artifact folder; nil for runs
    /// that ran nothing here (skipped, reused, or not a stage).
    public var logPaths: (stdout: String, stderr: String)? {
        guard kind == .stage, outcome != .skipped, outcome != .reused, let artifactURI else { return nil }
        let folder = (artifactURI as NSString).deletingLastPathComponent
        return ("\(folder)/stdout.log", "\(folder)/stderr.log")
    }

    public var durationMillis: Int64? {
        guard let start = startTime else { return nil }
        return (endTime ?? WallClock.process.nowMillis()) - start
    }
}

/// One value of a metric series.
public struct MetricPoint: Sendable, Hashable, Codable {
    public var key: String
    public var value: Double
    public var timestamp: Int64
    public var step: Int64

    public init(key: String, value: Double, timestamp: Int64 = WallClock.process.nowMillis(), step: Int64 = 0) {
        self.key = key
        self.value = value
        self.timestamp = timestamp
        self.step = step
    }

    /// A row of `metrics` or `latest_metrics` (key, value, timestamp, step, is_nan); NaN is kept
    /// as a flag because SQLite stores it as NULL.
    package init(row: Row) {
        self.init(key: row["key"], value: (row["is_nan"] as Bool) ? .nan : row["value"], timestamp: row["timestamp"], step: row["step"])
    }
}

extension RunRecord {
    /// Every column of the run's row with its value, in the table's order.
    var storedValues: [(column: String, value: SQLValue)] {
        let values: [(String, (any SQLValueConvertible)?)] = [
            ("run_uuid", id), ("experiment_id", experimentID), ("name", name), ("status", status.rawValue),
            ("start_time", startTime), ("end_time", endTime), ("lifecycle_stage", lifecycleStage), ("artifact_uri", artifactURI),
            ("user_id", userID), ("parent_run_id", parentRunID), ("kind", kind.rawValue), ("job", job), ("stage", stage),
            ("attempt", attempt), ("trigger", trigger?.rawValue), ("outcome", outcome?.rawValue), ("exit_code", exitCode),
            ("message", message), ("pid", pid), ("pid_start_time", pidStartTime), ("boot_id", bootID), ("host", host),
            ("heartbeat_time", heartbeatTime), ("spec_sha256", specSHA256), ("git_commit", gitCommit),
            ("executor", executor), ("executor_handle", executorHandle),
        ]
        return values.map { ($0.0, SQLValue(binding: $0.1)) }
    }

    func insert(_ db: SQLDatabase) throws {
        let values = storedValues
        try db.execute(sql: "INSERT INTO runs (\(values.map(\.column).joined(separator: ", "))) VALUES (\(values.map { _ in "?" }.joined(separator: ", ")))",
                       arguments: values.map(\.value))
    }

    func update(_ db: SQLDatabase) throws {
        let values = storedValues.dropFirst()
        try db.execute(sql: "UPDATE runs SET \(values.map { "\($0.column) = ?" }.joined(separator: ", ")) WHERE run_uuid = ?",
                       arguments: values.map(\.value) + [id])
    }

    static func fetchOne(_ db: SQLDatabase, key: String) throws -> RunRecord? {
        try fetchOne(db, sql: "SELECT * FROM runs WHERE run_uuid = ?", arguments: [key])
    }
}

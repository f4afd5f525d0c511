import Foundation

/// Where a `run:` stage's attempts run, as jobs.yaml says: a local process group (the default) or
/// a job on a Ray cluster. A stage's `executor:` is laid over its job's, and that over the
/// workspace's `executors:` default, field by field.
public enum ExecutorSpec: Sendable, Hashable {
    case local
    case ray(RaySpec)

    /// The executor's name, as `ExecutorCatalog` and the store know it.
    public var name: String {
        switch self {
        case .local: return "local"
        case .ray: return "ray"
        }
    }
}

/// A Ray job's settings: where the cluster's Jobs API is, what the job asks of it, and how long it
/// may wait to be scheduled. Every field is optional so that a stage can override one field of the
/// workspace's default; `address` falls back to `RAY_API_SERVER_ADDRESS` at run time.
public struct RaySpec: Sendable, Hashable {
    /// The Jobs API (the dashboard's address), e.g. `http://head:8265`.
    public var address: String?
    /// A folder, relative to the workspace, uploaded as the job's working directory.
    public var workingDir: String?
    public var numCPUs: Double?
    public var numGPUs: Double?
    /// Bytes of memory the driver asks for.
    public var memory: Int64?
    /// Custom resources, by name.
    public var resources: [String: Double] = [:]
    /// Variables for the job, besides the stage's own environment.
    public var env: [String: String] = [:]
    /// How long a job may stay PENDING before it fails as unschedulable (Ray cannot stop such a job).
    public var pendingTimeout: SpecDuration?
    /// The variable that holds a bearer token for the Jobs API.
    public var authTokenEnv: String?
    /// `MLFLOW_TRACKING_URI` for the job: an MLflow API the cluster can reach.
    public var trackingURL: String?

    public init() {}

    public static let defaultPendingTimeout = SpecDuration(milliseconds: 600_000)

    /// `other`'s fields where it has them, else this one's; maps merge key by key.
    public func overlaid(with other: RaySpec) -> RaySpec {
        var merged = self
        merged.address = other.address ?? address
        merged.workingDir = other.workingDir ?? workingDir
        merged.numCPUs = other.numCPUs ?? numCPUs
        merged.numGPUs = other.numGPUs ?? numGPUs
        merged.memory = other.memory ?? memory
        merged.resources.merge(other.resources) { _, new in new }
        merged.env.merge(other.env) { _, new in new }
        merged.pendingTimeout = other.pendingTimeout ?? pendingTimeout
        merged.authTokenEnv = other.authTokenEnv ?? authTokenEnv
        merged.trackingURL = other.trackingURL ?? trackingURL
        return merged
    }

    /// What the job asks of the cluster, for a message about a job that cannot be scheduled.
    public var request: String {
        var parts: [String] = []
        if let numCPUs { parts.append("num_cpus \(Self.number(numCPUs))") }
        if let numGPUs { parts.append("num_gpus \(Self.number(numGPUs))") }
        if let memory { parts.append("memory \(ByteCount.text(memory))") }
        for (name, amount) in resources.sorted(by: { $0.key < $1.key }) { parts.append("\(name) \(Self.number(amount))") }
        return parts.isEmpty ? "no resources" : parts.joined(separator: ", ")
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

/// A size in bytes as jobs.yaml writes it: `2GiB`, `512MB`, `1.5G` or a plain number of bytes.
public enum ByteCount {
    static let units: [(String, Double)] = [
        ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("TiB", 1_099_511_627_776),
        ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12),
        ("K", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("B", 1),
    ]

    public static func parse(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isNumber || $0 == "." }
        guard !digits.isEmpty, let number = Double(digits), number.isFinite else { return nil }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces)
        let factor: Double
        if unit.isEmpty { factor = 1 } else if let found = units.first(where: { $0.0.caseInsensitiveCompare(unit) == .orderedSame }) { factor = found.1 } else { return nil }
        let bytes = (number * factor).rounded()
        guard bytes >= 1, bytes < 9.2e18 else { return nil }
        return Int64(bytes)
    }

    public static func text(_ bytes: Int64) -> String {
        for (unit, factor) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1024)] as [(String, Int64)] where bytes >= factor && bytes % factor == 0 {
            return "\(bytes / factor)\(unit)"
        }
        return "\(bytes) B"
    }
}

import Foundation

/// Enough to tell, later and from another process, whether a process is still the one we started:
/// a pid alone is reused, a pid with its start time and the boot id is not.
public struct ProcessIdentity: Sendable, Hashable, Codable {
    public var pid: Int32
    /// Clock ticks since boot when the process started (field 22 of /proc/PID/stat).
    public var startTime: Int64?
    public var bootID: String?
    public var host: String

    public init(pid: Int32, startTime: Int64?, bootID: String?, host: String) {
        self.pid = pid
        self.startTime = startTime
        self.bootID = bootID
        self.host = host
    }

    public static let currentBootID: String? = {
        (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }()

    /// The kernel's host name (`gethostname`, the UTS namespace's own in a container), without a
    /// DNS lookup that a host cut off from its network would wait on.
    public static let currentHost: String = {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return ProcessInfo.processInfo.hostName }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    public static func current() -> ProcessIdentity { of(pid: getpid()) }

    public static func of(pid: Int32) -> ProcessIdentity {
        ProcessIdentity(pid: pid, startTime: startTime(of: pid), bootID: currentBootID, host: currentHost)
    }

    package static func startTime(of pid: Int32) -> Int64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name, which may itself hold spaces and parentheses.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state); starttime is field 22.
        guard fields.count > 19 else { return nil }
        return Int64(fields[19])
    }

    /// Whether this process is alive: true or false when it ran on this machine, nil when it ran on
    /// another host and only a heartbeat can tell.
    public func isAlive() -> Bool? {
        guard host == Self.currentHost else { return nil }
        if let bootID, let current = Self.currentBootID, bootID != current { return false }
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let recorded = startTime else { return true }
        return Self.startTime(of: pid) == recorded
    }
}

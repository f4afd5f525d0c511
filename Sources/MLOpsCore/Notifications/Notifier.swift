import Foundation

/// Delivers the outbox to the targets jobs.yaml names: webhooks (a JSON POST through the process's
/// HTTP client, started when the first webhook is sent) and commands. Each attempt is an audit row; a failed target is
/// retried with exponential backoff by this or a later process until its attempts run out.
/// Delivery never throws: an unreachable receiver is recorded, not raised.
public struct Notifier: Sendable {
    public let store: Store
    public let spec: JobsFile

    public init(store: Store, spec: JobsFile) {
        self.store = store
        self.spec = spec
    }

    public struct Report: Sendable, Hashable {
        public var delivered = 0
        public var failedAttempts = 0
        public var pending = 0
    }

    /// Long enough for every target's attempt to time out, and some.
    var claimLease: Int64 {
        (spec.notify + spec.jobs.flatMap(\.notify)).reduce(30_000) { $0 + $1.timeout.milliseconds }
    }

    func targets(for row: Outbox.Pending) -> [NotifyTarget] {
        let job = row.job.flatMap { spec.job(named: $0) }?.notify ?? []
        return (spec.notify + job).filter { $0.wants(row.event) }
    }

    /// Delivers what is due, retrying within `budget`; what is left stays for a later process.
    @discardableResult
    public func deliverPending(budget: Duration = .seconds(3)) async -> Report {
        let deadline = ContinuousClock.now + budget
        var report = Report()
        while true {
            let now = store.nowMillis()
            // One row at a time, claimed for as long as all its attempts could take.
            while let row = (try? store.write({ try Outbox.claimDue($0, now: now, lease: claimLease, limit: 1) }))?.first {
                await deliver(row, report: &report)
            }
            let waiting = try? store.read { try Outbox.waiting($0) }
            report.pending = waiting?.count ?? 0
            guard let next = waiting?.next else { return report }
            let wait = Duration.milliseconds(max(0, next - store.nowMillis()))
            guard ContinuousClock.now + wait < deadline else { return report }
            try? await Task.sleep(for: wait)
        }
    }

    func deliver(_ row: Outbox.Pending, report: inout Report) async {
        var delivered = (try? JSONDecoder().decode([String].self, from: Data(row.delivered_to.utf8))) ?? []
        let targets = targets(for: row).filter { !delivered.contains($0.name) }
        var errors: [String] = []
        for target in targets {
            let error = await attempt(target, row)
            if let error { errors.append("\(target.name): \(error)") } else { delivered.append(target.name) }
            if error == nil { report.delivered += 1 } else { report.failedAttempts += 1 }
            try? store.write { tx in
                if error == nil { try Outbox.markDelivered(tx, id: row.id, to: target.name) }
                try AuditLog.record(tx, entityType: "notification", entityID: String(row.id), action: "deliver",
                                    from: row.event, to: error == nil ? "delivered" : "failed",
                                    detail: "\(target.name) attempt \(row.attempts + 1)" + (error.map { ": \($0)" } ?? ""))
            }
        }
        let attempts = row.attempts + 1
        let limit = targets.map(\.attempts).max() ?? 1
        let state = errors.isEmpty ? (targets.isEmpty && delivered.isEmpty ? "no_target" : "delivered") : attempts >= limit ? "failed" : "pending"
        // 1 s, 4 s, 16 s, … up to 10 minutes between attempts.
        let backoff = min(600_000, 1000 * Int64(pow(4.0, Double(attempts - 1))))
        let deliveredText = String(decoding: (try? JSONEncoder().encode(delivered)) ?? Data("[]".utf8), as: UTF8.self)
        let lastError = errors.isEmpty ? nil : errors.joined(separator: "; ")
        try? store.write { tx in
            try Outbox.settle(tx, id: row.id, state: state, attempts: attempts, nextAttemptTime: store.nowMillis() + backoff,
                              deliveredTo: deliveredText, lastError: lastError)
        }
    }

    /// One attempt; the error, or nil when delivered.
    func attempt(_ target: NotifyTarget, _ row: Outbox.Pending) async -> String? {
        switch target.kind {
        case let .webhook(url):
            guard let endpoint = URL(string: url), let scheme = endpoint.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
                return "'\(url)' is not an http(s) URL"
            }
            return await WebhookPost.send(url, body: row.payload, timeout: target.timeout)
        case let .command(command):
            return await runCommand(command, row: row, timeout: target.timeout)
        }
    }

    func runCommand(_ command: String, row: Outbox.Pending, timeout: SpecDuration) async -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        var env = ProcessInfo.processInfo.environment
        env["MLOPS_EVENT"] = row.event
        env["MLOPS_EVENT_JSON"] = row.payload
        process.environment = env
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        return await withCheckedContinuation { continuation in
            process.terminationHandler = { p in
                continuation.resume(returning: p.terminationReason == .exit && p.terminationStatus == 0 ? nil
                    : p.terminationReason == .uncaughtSignal ? "killed by signal \(p.terminationStatus) (timeout \(timeout))" : "exit status \(p.terminationStatus)")
            }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(returning: "cannot start /bin/sh: \(error)")
                return
            }
            try? input.fileHandleForWriting.write(contentsOf: Data(row.payload.utf8))
            try? input.fileHandleForWriting.close()
            let pid = process.processIdentifier
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout.seconds) {
                if process.isRunning { kill(pid, SIGKILL) }
            }
        }
    }
}

import ArgumentParser
import MLOpsCore

struct RunsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the latest job runs.",
        discussion: """
            --filter takes MLflow's search syntax: comparisons on metrics.KEY, params.KEY, tags.KEY and \
            attributes.KEY (status, run_id, run_name, start_time, end_time, job, trigger, outcome, duration) \
            with = != < > <= >= LIKE ILIKE IN, joined by AND. Example:
              mlops runs --filter "metrics.auc > 0.8 and params.l2 = '1.0'" --order-by "metrics.auc DESC"
            """)

    @Option(help: "Only runs of this job.")
    var job: String?

    @Option(help: "Which runs: job (the default), monitor (each monitor evaluation, with its drift), stage or run.")
    var kind = "job"

    @Option(help: "Only runs in this status: RUNNING, FINISHED, FAILED, KILLED.")
    var status: String?

    @Option(help: "MLflow search filter.")
    var filter: String?

    @Option(help: "Order, e.g. \"metrics.auc DESC, attributes.start_time\" (default: newest first).")
    var orderBy: String?

    @Option(help: "At most this many runs.")
    var limit = 20

    @Option(name: .customLong("metric"), help: "A metric to show (repeatable; default: the latest three logged).")
    var metrics: [String] = []

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Print CSV: a column for each param, metric and tag (for a spreadsheet; formula-like cells are neutralised).")
    var csv = false

    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        try await reportingErrors {
            var status: RunStatus?
            if let text = self.status {
                guard let parsed = RunStatus(rawValue: text.uppercased()) else {
                    throw CLIError.invalidInput("--status '\(text)' is not one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                status = parsed
            }
            guard let kind = RunKind(rawValue: self.kind) else {
                throw CLIError.invalidInput("--kind '\(self.kind)' is not one of job, monitor, stage, run")
            }
            guard limit > 0 else { throw CLIError.invalidInput("--limit must be at least 1") }
            let filter = try self.filter.map { try RunFilter(parsing: $0) }
            let order = try orderBy.map { try RunSearch.OrderTerm.parseList($0) } ?? []
            let store = try options.openStore()
            try await OrphanReaper(store: store).reap()
            let runs = try RunSearch(kind: kind, job: job, status: status, filter: filter, orderBy: order, limit: limit).run(store)
            let latest = try RunSearch.latestMetrics(store, runIDs: runs.map(\.id))
            if json {
                printJSON(runs.map { run in
                    var object = RunJSON.object(run)
                    object["metrics"] = Dictionary((latest[run.id] ?? []).map { ($0.key, $0.value.isNaN ? "NaN" as Any : $0.value as Any) }, uniquingKeysWith: { a, _ in a })
                    return object
                })
                return
            }
            if csv {
                let details = try store.read { tx in try Tracker.details(tx, runs.map(\.id)) }
                Console.shared.write(RunsCSV.table(runs, details: details).csv())
                return
            }
            if runs.isEmpty {
                Console.shared.write(filter == nil && job == nil && status == nil
                    ? "no runs yet: `mlops run JOB` starts one\n" : "no runs match\n")
                return
            }
            var table = TextTable([.init("RUN"), .init("JOB"), .init("STATUS"), .init("TRIGGER"), .init("STARTED"),
                                   .init("DURATION", .right), .init("METRICS")])
            for run in runs {
                let points = latest[run.id] ?? []
                let shown = metrics.isEmpty ? Array(points.prefix(3)) : metrics.compactMap { key in points.first { $0.key == key } }
                table.append([
                    .init(run.shortID), .init(run.job ?? run.name ?? "-"),
                    .init(run.status.rawValue, color: Formatting.statusColor(run.status)), .init(run.trigger?.rawValue ?? "-"),
                    .init(Formatting.timestamp(millis: run.startTime)), .init(Formatting.duration(millis: run.durationMillis)),
                    .init(Formatting.metricPairs(shown)),
                ])
            }
            Console.shared.write(table.render { Console.shared.paint($0, $1) })
        }
    }
}

/// The JSON shape of a run, shared by the listing and `runs show`.
enum RunJSON {
    static func object(_ run: RunRecord) -> [String: Any] {
        var object: [String: Any] = [
            "run_id": run.id, "experiment_id": String(run.experimentID), "status": run.status.rawValue, "kind": run.kind.rawValue,
        ]
        let optional: [String: Any?] = [
            "name": run.name, "job": run.job, "stage": run.stage, "attempt": run.attempt, "trigger": run.trigger?.rawValue,
            "outcome": run.outcome?.rawValue, "start_time": run.startTime, "end_time": run.endTime,
            "duration_ms": run.durationMillis, "exit_code": run.exitCode, "message": run.message, "pid": run.pid,
            "parent_run_id": run.parentRunID, "artifact_uri": run.artifactURI, "spec_sha256": run.specSHA256,
            "git_commit": run.gitCommit,
        ]
        for (key, value) in optional { if let value { object[key] = value } }
        return object
    }
}

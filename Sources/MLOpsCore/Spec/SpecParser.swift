import Foundation
import Yams

/// Turns jobs.yaml into a `JobsFile`, or a `SpecError` that lists every problem with its location.
public enum SpecParser {
    static let rootKeys = ["version", "tracking", "executors", "jobs", "monitors", "notify"]
    static let jobKeys = ["description", "schedule", "timezone", "catchup", "concurrency", "max_parallel", "params", "executor", "stages", "notify"]
    static let stageKeys = ["uses", "run", "shell", "with", "needs", "retries", "retry_delay", "max_retry_delay",
                            "timeout", "kill_grace", "trigger_rule", "skip_if", "env", "executor", "shards"]

    public static func load(path: String, catalog: StageCatalog = .standard) throws(SpecError) -> JobsFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw SpecError([Diagnostic(location: nil, path: "",
                                        message: exists ? "cannot read \(path)" : "no spec at \(path)",
                                        hint: exists ? "check the file's permissions" : "create a jobs.yaml there, or pass --file PATH / --workspace DIR")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SpecError([Diagnostic(location: nil, path: "", message: "\(path) is not UTF-8 text")])
        }
        return try parse(text: text, file: path, catalog: catalog, sha256: SHA256Digest.hex(of: data))
    }

    public static func parse(text: String, file: String, catalog: StageCatalog = .standard,
                             sha256: String? = nil) throws(SpecError) -> JobsFile {
        var reader = SpecReader(file: file)
        let root: Node
        do {
            guard let composed = try Yams.compose(yaml: text, .basic) else {
                throw SpecError([Diagnostic(location: SourceLocation(file: file, line: 1, column: 1), path: "",
                                            message: "the spec is empty", hint: "start with `version: 1` and a `jobs:` mapping")])
            }
            root = composed
        } catch let error as SpecError {
            throw error
        } catch {
            throw SpecError([yamlDiagnostic(error, file: file)])
        }

        var version = 1
        var jobs: [JobSpec] = []
        var monitors: [MonitorSpec] = []
        var notify: [NotifyTarget] = []
        var tracking: String?
        var jobsNode: Node?
        guard let entries = reader.mapping(root, "", allowed: rootKeys, what: "a mapping with `version` and `jobs`") else {
            throw SpecError(reader.diagnostics)
        }
        // The executors' defaults first: stages are laid over them.
        let executorDefaults = entries.first(where: { $0.key == "executors" }).flatMap { ExecutorSpecParser.parseDefaults($0.value, reader: &reader) }
        for (key, _, value) in entries {
            switch key {
            case "version":
                if let v = reader.int(value, "version") {
                    if v != 1 { reader.error(value, "version", "unsupported spec version \(v)", hint: "this mlops reads `version: 1`") }
                    version = v
                }
            case "jobs":
                jobsNode = value
                if let jobEntries = reader.mapping(value, "jobs", what: "a mapping of job names to jobs") {
                    for (name, keyNode, jobNode) in jobEntries {
                        if let job = parseJob(name: name, keyNode: keyNode, node: jobNode, executorDefaults: executorDefaults,
                                                reader: &reader, catalog: catalog) {
                            jobs.append(job)
                        }
                    }
                }
            case "tracking":
                if let text = reader.string(value, "tracking") {
                    if text.trimmingCharacters(in: .whitespaces).isEmpty {
                        reader.error(value, "tracking", "`tracking` is empty", hint: "give a SQLite file or a postgresql://user@host:port/database URL, or leave the key out")
                    } else {
                        tracking = text
                    }
                }
            case "notify":
                notify = NotifySpecParser.parse(value, path: "notify", reader: &reader)
            case "monitors":
                if let monitorEntries = reader.mapping(value, "monitors", what: "a mapping of monitor names to monitors") {
                    for (name, keyNode, node) in monitorEntries {
                        if let monitor = parseMonitor(name: name, keyNode: keyNode, node: node, reader: &reader) {
                            monitors.append(monitor)
                        }
                    }
                }
            default: break
            }
        }
        if jobsNode == nil {
            reader.error(root, "jobs", "the spec has no `jobs:`", hint: "add `jobs:` with at least one job and its stages")
        }
        let jobNames = Set(jobs.map(\.name))
        for monitor in monitors {
            if let target = monitor.onDropRun, !jobNames.contains(target) {
                reader.error(at: monitor.location, "monitors.\(monitor.name).on_drop.run", "on_drop runs unknown job '\(target)'",
                             hint: Suggestion.hint(for: target, in: jobNames) ?? "name one of: \(jobNames.sorted().joined(separator: ", "))")
            } else if let target = monitor.onDropRun, let job = jobs.first(where: { $0.name == target }) {
                for name in monitor.onDropParams.keys.sorted() where !job.params.contains(where: { $0.name == name }) {
                    reader.error(at: monitor.location, "monitors.\(monitor.name).on_drop.params.\(name)", "job '\(target)' has no param '\(name)'",
                                 hint: Suggestion.hint(for: name, in: job.params.map(\.name)) ?? "declare it under the job's `params:`")
                }
            }
        }
        if !reader.diagnostics.isEmpty { throw SpecError(reader.diagnostics) }
        return JobsFile(path: file, version: version, tracking: tracking, jobs: jobs, monitors: monitors, notify: notify,
                        sha256: sha256 ?? SHA256Digest.hex(of: Data(text.utf8)))
    }

    static func yamlDiagnostic(_ error: any Error, file: String) -> Diagnostic {
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(file: file, line: mark.line, column: mark.column) }
        switch error as? YamlError {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            let detail = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
            return Diagnostic(location: at(mark), path: "", message: "YAML syntax: \(problem)\(detail)",
                              hint: "check the indentation and quoting on this line and the one before it")
        case let .duplicatedKeysInMapping(duplicates, context):
            return Diagnostic(location: at(context.mark), path: "",
                              message: "duplicate key\(duplicates.count > 1 ? "s" : "") \(duplicates.map { "'\($0)'" }.joined(separator: ", "))",
                              hint: "each name may appear once in a mapping; rename or merge the two")
        case let .reader(problem, _, _, _):
            return Diagnostic(location: nil, path: "", message: "cannot read the YAML: \(problem)")
        default:
            return Diagnostic(location: nil, path: "", message: "cannot read the YAML: \(error)")
        }
    }

    static func validName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
    }

    static func parseJob(name: String, keyNode: Node, node: Node, executorDefaults: RaySpec?, reader: inout SpecReader,
                         catalog: StageCatalog) -> JobSpec? {
        let path = "jobs.\(name)"
        if !validName(name) {
            reader.error(keyNode, path, "job name '\(name)' may hold only letters, digits, '-', '_' and '.'")
        }
        guard let entries = reader.mapping(node, path, allowed: jobKeys, what: "a job (a mapping with `stages:`)") else { return nil }
        var job = JobSpec(name: name, description: nil, schedule: nil, timezone: nil, concurrency: .forbid,
                          maxParallel: nil, params: [], stages: [], location: reader.location(keyNode))
        var stagesNode: Node?
        // Params first: stages refer to them.
        if let paramsNode = entries.first(where: { $0.key == "params" })?.value,
           let params = reader.mapping(paramsNode, "\(path).params", what: "a mapping of param names to values") {
            job.params = params.map { JobParam(name: $0.key, value: reader.value($0.value)) }
        }
        let paramNames = Set(job.params.map(\.name))
        let executor = entries.first(where: { $0.key == "executor" })
            .flatMap { ExecutorSpecParser.parseChoice($0.value, "\(path).executor", reader: &reader) }
        for (key, _, value) in entries {
            let fieldPath = "\(path).\(key)"
            switch key {
            case "description": job.description = reader.string(value, fieldPath)
            case "schedule":
                if let text = reader.string(value, fieldPath) {
                    do {
                        job.schedule = try CronExpression(parsing: text)
                    } catch {
                        reader.error(value, fieldPath, "bad cron expression: \(error.message)", hint: error.hint, offset: error.offset)
                    }
                }
            case "timezone":
                if let text = reader.string(value, fieldPath) {
                    if TimeZone(identifier: text) == nil {
                        reader.error(value, fieldPath, "unknown time zone '\(text)'", hint: "use an IANA name such as Europe/Madrid or UTC")
                    } else {
                        job.timezone = text
                    }
                }
            case "concurrency": job.concurrency = reader.choice(value, fieldPath, as: Concurrency.self) ?? .forbid
            case "catchup": job.catchup = reader.choice(value, fieldPath, as: Catchup.self) ?? .latest
            case "max_parallel": job.maxParallel = reader.int(value, fieldPath, min: 1)
            case "notify": job.notify = NotifySpecParser.parse(value, path: fieldPath, reader: &reader)
            case "stages":
                stagesNode = value
                if let stageEntries = reader.mapping(value, fieldPath, what: "a mapping of stage names to stages") {
                    for (stageName, stageKey, stageNode) in stageEntries {
                        if var stage = parseStage(name: stageName, keyNode: stageKey, node: stageNode, jobPath: path,
                                                  params: paramNames, reader: &reader, catalog: catalog) {
                            let own = stageNode.mapping?["executor"]
                            let choice = own.flatMap { ExecutorSpecParser.parseChoice($0, "\(path).stages.\(stageName).executor", reader: &reader) }
                            if choice != nil, case .builtin = stage.action, case .ray? = choice {
                                reader.error(own, "\(path).stages.\(stageName).executor", "built-in stages run inside the runner, not on Ray",
                                             hint: "run a command on Ray instead: `run: python3 score.py`, with `executor: ray`")
                            }
                            stage.executor = ExecutorSpecParser.resolve(stage: choice, job: executor, defaults: executorDefaults,
                                                                        isCommand: { if case .command = stage.action { true } else { false } }())
                            ExecutorSpecParser.checkResolved(stage.executor, at: own ?? stageKey, "\(path).stages.\(stageName).executor", reader: &reader)
                            job.stages.append(stage)
                        }
                    }
                }
            default: break
            }
        }
        if stagesNode == nil {
            reader.error(keyNode, "\(path).stages", "job '\(name)' has no `stages:`", hint: "add `stages:` with at least one stage")
        } else if job.stages.isEmpty, case .mapping? = stagesNode {
            reader.error(stagesNode, "\(path).stages", "job '\(name)' has no stages")
        }
        checkGraph(job, path: path, reader: &reader)
        return job
    }

    static func parseStage(name: String, keyNode: Node, node: Node, jobPath: String, params: Set<String>,
                           reader: inout SpecReader, catalog: StageCatalog) -> StageSpec? {
        let path = "\(jobPath).stages.\(name)"
        if !validName(name) {
            reader.error(keyNode, path, "stage name '\(name)' may hold only letters, digits, '-', '_' and '.'")
        }
        guard let entries = reader.mapping(node, path, allowed: stageKeys, what: "a stage (a mapping with `uses:` or `run:`)") else { return nil }
        var stage = StageSpec(name: name, action: .builtin("noop"), location: reader.location(keyNode))
        var uses: (String, Node)?
        var run: (String, Node)?
        var shell = false
        var withNode: Node?
        for (key, _, value) in entries {
            let fieldPath = "\(path).\(key)"
            switch key {
            case "uses": if let text = reader.string(value, fieldPath) { uses = (text, value) }
            case "run":
                if let text = reader.string(value, fieldPath) {
                    if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                        reader.error(value, fieldPath, "`run:` is empty", hint: "give the command to run, e.g. `run: python3 train.py`")
                    } else {
                        run = (text, value)
                        checkReferences(value, fieldPath, params: params, reader: &reader)
                    }
                }
            case "shell": shell = reader.bool(value, fieldPath) ?? false
            case "with":
                withNode = value
                if let items = reader.mapping(value, fieldPath, what: "a mapping of settings") {
                    for (k, _, v) in items { stage.with[k] = reader.value(v) }
                    checkReferences(value, fieldPath, params: params, reader: &reader)
                }
            case "needs":
                if let items = reader.stringList(value, fieldPath) {
                    stage.needs = items.map(\.0)
                    stage.needLocations = items.map { reader.location($0.1) }
                }
            case "retries": stage.retries = reader.int(value, fieldPath, min: 0, max: 100) ?? 0
            case "retry_delay": stage.retryDelay = reader.duration(value, fieldPath) ?? stage.retryDelay
            case "max_retry_delay": stage.maxRetryDelay = reader.duration(value, fieldPath) ?? stage.maxRetryDelay
            case "timeout":
                if let duration = reader.duration(value, fieldPath) {
                    if duration.milliseconds <= 0 { reader.error(value, fieldPath, "timeout must be longer than 0") } else { stage.timeout = duration }
                }
            case "kill_grace": stage.killGrace = reader.duration(value, fieldPath) ?? stage.killGrace
            case "shards": stage.shards = reader.int(value, fieldPath, min: 1, max: 10_000) ?? 1
            case "trigger_rule": stage.triggerRule = reader.choice(value, fieldPath, as: TriggerRule.self) ?? .allSuccess
            case "skip_if": stage.skipIf = parseSkipCondition(value, fieldPath, reader: &reader)
            case "env":
                if let items = reader.mapping(value, fieldPath, what: "a mapping of variable names to values") {
                    for (k, _, v) in items {
                        if let text = reader.scalarText(v, "\(fieldPath).\(k)", expected: "a value") { stage.env[k] = text }
                    }
                    checkReferences(value, fieldPath, params: params, reader: &reader)
                }
            default: break
            }
        }
        switch (uses, run) {
        case (nil, nil):
            reader.error(keyNode, path, "stage '\(name)' has neither `uses:` nor `run:`",
                         hint: "add `uses: <built-in stage>` (one of: \(catalog.names.joined(separator: ", "))) or `run: <command>`")
        case (_?, _?):
            reader.error(keyNode, path, "stage '\(name)' has both `uses:` and `run:`", hint: "keep one: a built-in stage or a command")
        case let ((builtin, usesNode)?, nil):
            stage.action = .builtin(builtin)
            if let descriptor = catalog.descriptor(builtin) {
                descriptor.validate(&reader, withNode, "\(path).with", stage.with)
            } else {
                reader.error(usesNode, "\(path).uses", "unknown built-in stage '\(builtin)'",
                             hint: Suggestion.hint(for: builtin, in: catalog.names) ?? "built-in stages: \(catalog.names.joined(separator: ", "))")
            }
        case let (nil, (command, _)?):
            stage.action = .command(command, shell: shell)
            if !shell, CommandLineWords.split(command) == nil {
                reader.error(run?.1, "\(path).run", "unbalanced quote in `run:`", hint: "close the quote, or set `shell: true` and write it for sh")
            }
        }
        return stage
    }

    /// Reports each `${params.x}` under `node` that names no param of the job.
    static func checkReferences(_ node: Node, _ path: String, params: Set<String>, reader: inout SpecReader) {
        switch node {
        case let .scalar(scalar):
            for ref in ParamReference.names(in: scalar.string) where !params.contains(ref.name) {
                reader.error(node, path, "undefined param '\(ref.name)' in `${params.\(ref.name)}`",
                             hint: Suggestion.hint(for: ref.name, in: params) ?? "declare it under the job's `params:`",
                             offset: scalar.style == .plain ? ref.offset : ref.offset)
            }
        case let .sequence(sequence):
            for (i, item) in sequence.enumerated() { checkReferences(item, "\(path)[\(i)]", params: params, reader: &reader) }
        case let .mapping(mapping):
            for (key, value) in mapping { checkReferences(value, "\(path).\(key.string ?? "")", params: params, reader: &reader) }
        case .alias: break
        }
    }

    static func checkGraph(_ job: JobSpec, path: String, reader: inout SpecReader) {
        let names = Set(job.stages.map(\.name))
        for stage in job.stages {
            var seen = Set<String>()
            for (i, need) in stage.needs.enumerated() {
                let location = stage.needLocations[i]
                let needPath = "\(path).stages.\(stage.name).needs[\(i)]"
                if need == stage.name {
                    reader.error(at: location, needPath, "stage '\(stage.name)' needs itself")
                } else if !names.contains(need) {
                    reader.error(at: location, needPath, "stage '\(stage.name)' needs unknown stage '\(need)'",
                                 hint: Suggestion.hint(for: need, in: names) ?? "stages of this job: \(names.sorted().joined(separator: ", "))")
                } else if !seen.insert(need).inserted {
                    reader.error(at: location, needPath, "stage '\(need)' is listed twice in needs")
                }
            }
        }
        if let cycle = StageGraph(job: job).cycle() {
            let first = job.stage(named: cycle[0])
            let index = first?.needs.firstIndex(of: cycle[1 % cycle.count])
            let location = index.flatMap { first?.needLocations[$0] } ?? first?.location
            reader.error(at: location, "\(path).stages", "cycle: \((cycle + [cycle[0]]).joined(separator: " → ")), where each stage needs the next",
                         hint: "a stage cannot depend, directly or not, on itself; remove one of these needs")
        }
    }

    static func parseSkipCondition(_ node: Node, _ path: String, reader: inout SpecReader) -> SkipCondition? {
        guard let items = reader.mapping(node, path, allowed: ["trigger", "alias_exists"],
                                         what: "a mapping like `{ trigger: [schedule], alias_exists: MODEL@champion }`") else { return nil }
        var condition = SkipCondition()
        for (key, _, value) in items {
            if key == "trigger" {
                let list = reader.stringList(value, "\(path).trigger")?.map(\.0) ?? []
                for t in list where RunTrigger(rawValue: t) == nil {
                    reader.error(value, "\(path).trigger", "unknown trigger '\(t)'",
                                 hint: Suggestion.hint(for: t, in: RunTrigger.names) ?? "triggers are \(RunTrigger.names.joined(separator: ", "))")
                }
                condition.triggers = list.compactMap(RunTrigger.init(rawValue:))
            } else if let text = reader.string(value, "\(path).alias_exists") {
                if text.split(separator: "@").count != 2 { reader.error(value, "\(path).alias_exists", "'\(text)' is not MODEL@ALIAS") }
                condition.aliasExists = text
            }
        }
        return condition
    }
}

extension SpecParser {
    /// The spec's `tracking:`, read without checking the rest of the spec: commands that do not
    /// run jobs (`mlops runs`) find the store even when a job in the spec has an error. Nil when
    /// the file is missing, unreadable or has no such string.
    public static func tracking(inSpecAt path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8),
              text.contains("tracking:"), let node = try? Yams.compose(yaml: text), let mapping = node.mapping,
              let value = mapping["tracking"]?.string, !value.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        return value
    }
}

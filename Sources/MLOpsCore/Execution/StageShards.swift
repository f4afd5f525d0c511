import Foundation

/// `shards: N`: a stage's N copies side by side, each told its `MLOPS_SHARD_INDEX` of
/// `MLOPS_SHARD_COUNT`, each a child run of its own with its own attempts. The stage succeeds when
/// every copy does. Local copies run at most the job's `max_parallel` (else a core each) at once;
/// copies on Ray are all submitted, and the cluster schedules them. Downstream stages see one
/// folder with each copy's artifacts under its index (`0/`, `1/`, …).
extension JobRunner {
    func runShards(_ stage: StageSpec, job: JobSpec, parent: RunRecord, params: [String: SpecValue],
                   inputs: [StageInput], prefix: String?) async -> Done {
        let count = stage.shards
        let window = stage.executor == .local ? max(1, job.maxParallel ?? ProcessInfo.processInfo.activeProcessorCount) : count
        var results: [Int: Done] = [:]
        await withTaskGroup(of: (Int, Done).self) { group in
            var next = 0
            func launch() {
                let shard = StageShard(index: next, count: count)
                group.addTask {
                    (shard.index, await self.runAttempts(stage, shard: shard, job: job, parent: parent, params: params, inputs: inputs, prefix: prefix))
                }
                next += 1
            }
            while next < min(window, count) { launch() }
            for await (index, done) in group {
                results[index] = done
                if next < count, !Task.isCancelled { launch() }
            }
        }
        let ordered = (0..<count).compactMap { results[$0] }
        let folder = workspace.runDirectory(experiment: job.name, runID: parent.id) + "/shards/\(stage.name)"
        Self.gather(ordered.map(\.artifacts), into: folder)
        let bad = ordered.enumerated().filter { $0.element.outcome != .succeeded }
        let outcome: RunOutcome = ordered.count < count || bad.contains { $0.element.outcome == .killed } ? .killed
            : bad.isEmpty ? .succeeded : bad.contains { $0.element.outcome == .failed } ? .failed : bad[0].element.outcome
        let message = bad.isEmpty ? nil : bad.map { "shard \($0.offset)/\(count): \($0.element.message ?? $0.element.outcome.rawValue)" }.joined(separator: "; ")
        return Done(name: stage.name, outcome: outcome, message: message, runID: ordered.first?.runID, artifacts: folder,
                    attempts: ordered.map(\.attempts).max() ?? 0)
    }

    /// One folder with a link per shard to its artifacts, named by its index.
    static func gather(_ folders: [String?], into folder: String) {
        let manager = FileManager.default
        try? manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (index, artifacts) in folders.enumerated() {
            guard let artifacts else { continue }
            try? manager.createSymbolicLink(atPath: "\(folder)/\(index)", withDestinationPath: artifacts)
        }
    }
}

extension StageShard {
    /// A shard's run name: `score[2/4]` (stage names cannot hold brackets).
    static func runName(_ stage: String, _ shard: StageShard) -> String { "\(stage)[\(shard.index)/\(shard.count)]" }
}

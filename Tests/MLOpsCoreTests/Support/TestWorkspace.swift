import Foundation
@testable import MLOpsCore

/// A throwaway workspace in a temporary folder: a real jobs.yaml, a real SQLite store (or a real
/// PostgreSQL database of its own under MLOPS_TEST_POSTGRES).
struct TestWorkspace {
    let root: String
    let workspace: Workspace

    init(_ yaml: String? = nil) throws {
        root = NSTemporaryDirectory() + "mlops-test-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        // Under MLOPS_TEST_POSTGRES each workspace gets a database of its own on that server.
        workspace = Workspace(root: root, storePath: try PostgresAdmin.testDatabase())
        if let yaml { try write("jobs.yaml", yaml) }
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(toFile: "\(root)/\(name)", atomically: true, encoding: .utf8)
    }

    func path(_ name: String) -> String { "\(root)/\(name)" }

    func spec() throws -> JobsFile { try SpecParser.load(path: workspace.specPath) }

    func store() throws -> Store { try Store(path: workspace.storePath) }

    /// Runs a job of this workspace's spec to its end.
    func run(_ job: String, _ request: RunRequest? = nil, events: (@Sendable (RunEvent) -> Void)? = nil) async throws -> JobRunResult {
        let runner = JobRunner(workspace: workspace, spec: try spec(), store: try store(), report: events ?? { _ in })
        var req = request ?? RunRequest(job: job)
        req.job = job
        req.echo = false
        return try await runner.run(req)
    }

    /// One integer from the store, read synchronously (also from async tests).
    func count(_ sql: String) throws -> Int {
        try store().read { try Int.fetchOne($0.db, sql: sql) ?? 0 }
    }

    func double(_ sql: String) throws -> Double? {
        try store().read { try Double.fetchOne($0.db, sql: sql) }
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    /// Registers `versions` versions of model `m` (a stand-in `model.json`) and makes `champion` its champion.
    func registerModel(versions: Int, champion: Int) throws -> (Store, ModelRegistry) {
        try FileManager.default.createDirectory(atPath: path("model"), withIntermediateDirectories: true)
        try write("model/model.json", "{}")
        let store = try store()
        let registry = ModelRegistry(store: store, directory: workspace.registryDirectory)
        for _ in 0..<versions { _ = try registry.register(name: "m", from: path("model"), runID: nil) }
        try registry.setAlias("m", "champion", to: champion, reason: "test")
        return (store, registry)
    }
}

/// The diagnostics a spec produces, as text, or [] when it is valid.
func diagnostics(_ yaml: String, file: String = "jobs.yaml") -> [Diagnostic] {
    do {
        _ = try SpecParser.parse(text: yaml, file: file)
        return []
    } catch {
        return error.diagnostics
    }
}

func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 }

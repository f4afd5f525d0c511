import Foundation
import Testing
@testable import MLOpsCore

@Suite("The model registry: immutable versions, checksummed files, audited aliases")
struct RegistryTests {
    func setUp() throws -> (TestWorkspace, ModelRegistry, String) {
        let ws = try TestWorkspace()
        let source = ws.path("artifacts")
        try FileManager.default.createDirectory(atPath: source + "/extra", withIntermediateDirectories: true)
        try ws.write("artifacts/model.json", "{\"weights\": [1, 2]}")
        try ws.write("artifacts/extra/notes.txt", "hello")
        return (ws, ModelRegistry(store: try ws.store(), directory: ws.workspace.registryDirectory), source)
    }

    @Test func versionsAreNumberedCopiedAndChecksummed() throws {
        let (ws, registry, source) = try setUp()
        defer { ws.remove() }
        let v1 = try registry.register(name: "propensity", from: source, runID: "abc")
        let v2 = try registry.register(name: "propensity", from: source, runID: "def")
        #expect((v1.version, v2.version) == (1, 2))
        #expect(v1.status == .ready && v1.sourceRunID == "abc")
        #expect(v1.files.map(\.path) == ["extra/notes.txt", "model.json"])
        #expect(v1.storageLocation == ws.workspace.registryDirectory + "/propensity/1")
        #expect(FileManager.default.contents(atPath: v1.storageLocation + "/model.json") == Data("{\"weights\": [1, 2]}".utf8))
        #expect(v1.sha256 == v2.sha256)
        // No temporary folder is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: ws.workspace.registryDirectory + "/propensity").sorted() == ["1", "2"])
        #expect(try registry.models().map(\.latestVersion) == [2])
    }

    @Test func aliasesMoveWithAnAuditTrail() throws {
        let (ws, registry, source) = try setUp()
        defer { ws.remove() }
        _ = try registry.register(name: "propensity", from: source, runID: nil)
        _ = try registry.register(name: "propensity", from: source, runID: nil)
        #expect(try registry.setAlias("propensity", "champion", to: 1, reason: "first") == nil)
        #expect(try registry.setAlias("propensity", "champion", to: 2, reason: "better auc") == 1)
        #expect(try registry.resolve(.init(parsing: "propensity@champion")).version == 2)
        #expect(try registry.resolve(.init(parsing: "propensity")).version == 2)
        #expect(try registry.resolve(.init(parsing: "propensity/1")).version == 1)
        let history = try registry.aliasHistory("propensity")
        #expect(history.map(\.entry.to_state) == ["1", "2"])
        #expect(history.last?.entry.from_state == "1" && history.last?.entry.detail == "better auc")
        #expect(throws: ModelRegistry.RegistryError.self) { try registry.resolve(.init(parsing: "propensity@challenger")) }
        #expect(throws: ModelRegistry.RegistryError.self) { try registry.setAlias("propensity", "champion", to: 9, reason: "") }
    }

    @Test func aChangedFileIsRefused() throws {
        let (ws, registry, source) = try setUp()
        defer { ws.remove() }
        let v1 = try registry.register(name: "propensity", from: source, runID: nil)
        try "tampered".write(toFile: v1.storageLocation + "/model.json", atomically: true, encoding: .utf8)
        do {
            try registry.verify(v1)
            Issue.record("a changed file must be refused")
        } catch {
            #expect("\(error)".contains("model.json has sha256"))
            #expect("\(error)".contains("changed after registration"))
        }
        #expect(throws: ModelRegistry.RegistryError.self) { try registry.setAlias("propensity", "champion", to: 1, reason: "") }
    }

    @Test func referencesAndUnknownModels() throws {
        let (ws, registry, source) = try setUp()
        defer { ws.remove() }
        _ = try registry.register(name: "propensity", from: source, runID: nil)
        #expect(throws: ModelRegistry.RegistryError.self) { try ModelRegistry.Reference(parsing: "x/zero") }
        #expect(throws: ModelRegistry.RegistryError.self) { try ModelRegistry.Reference(parsing: "bad name") }
        do {
            _ = try registry.resolve(.init(parsing: "propensty"))
        } catch {
            #expect("\(error)" == "no registered model 'propensty'; did you mean 'propensity'?")
        }
    }
}

import Foundation
import Testing
@testable import MLOpsCore

/// Artifact and registry paths cannot leave their roots: not by `..`, not through a symlink
/// inside the root, not for a file that does not exist yet under a symlinked folder.
@Suite("Paths confined to their roots")
struct ConfinedPathTests {
    func setUp() throws -> (TestWorkspace, root: String, outside: String) {
        let ws = try TestWorkspace()
        let root = ws.path("root"), outside = ws.path("outside")
        for folder in [root + "/inner", outside] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        try ws.write("outside/secret.txt", "secret")
        try FileManager.default.createSymbolicLink(atPath: root + "/escape", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: root + "/secret-link", withDestinationPath: outside + "/secret.txt")
        try FileManager.default.createSymbolicLink(atPath: root + "/inner-link", withDestinationPath: root + "/inner")
        return (ws, root, outside)
    }

    @Test func pathsInsideAreKept() throws {
        let (ws, root, _) = try setUp()
        defer { ws.remove() }
        #expect(try ConfinedPath.resolve("inner/model.json", under: root) == root + "/inner/model.json")
        #expect(try ConfinedPath.resolve("inner-link/new/file.bin", under: root) == root + "/inner-link/new/file.bin")
        #expect(try ConfinedPath.resolve("", under: root) == root)
    }

    @Test(arguments: ["../outside/secret.txt", "inner/../../outside", "./x", "a\\b", "escape/secret.txt", "secret-link",
                      "escape/not-yet/created.txt", "escape"])
    func pathsThatLeaveAreRefused(_ relative: String) throws {
        let (ws, root, _) = try setUp()
        defer { ws.remove() }
        #expect(throws: ConfinedPath.Refusal.self) { try ConfinedPath.resolve(relative, under: root) }
    }

    @Test func aModelFolderWithALinkOutIsNotRegistered() throws {
        let (ws, root, outside) = try setUp()
        defer { ws.remove() }
        try ws.write("root/inner/model.json", "{}")
        try FileManager.default.createSymbolicLink(atPath: root + "/inner/weights.bin", withDestinationPath: outside + "/secret.txt")
        let registry = ModelRegistry(store: try ws.store(), directory: ws.workspace.registryDirectory)
        #expect {
            try registry.register(name: "propensity", from: root + "/inner", runID: nil)
        } throws: { "\($0)".contains("weights.bin is a symlink to") && "\($0)".contains("outside the model's folder") }
        // A link that stays inside is registered as a plain copy of what it points at.
        try FileManager.default.removeItem(atPath: root + "/inner/weights.bin")
        try FileManager.default.createSymbolicLink(atPath: root + "/inner/weights.bin", withDestinationPath: root + "/inner/model.json")
        let version = try registry.register(name: "propensity", from: root + "/inner", runID: nil)
        let copied = try FileManager.default.attributesOfItem(atPath: version.storageLocation + "/weights.bin")[.type] as? FileAttributeType
        #expect(copied == .typeRegular)
    }

    @Test func aRegisteredFileSwappedForALinkOutIsRefused() throws {
        let (ws, root, outside) = try setUp()
        defer { ws.remove() }
        try ws.write("root/inner/model.json", "secret")
        let registry = ModelRegistry(store: try ws.store(), directory: ws.workspace.registryDirectory)
        let version = try registry.register(name: "propensity", from: root + "/inner", runID: nil)
        // Same bytes, so the checksum alone would pass.
        try FileManager.default.removeItem(atPath: version.storageLocation + "/model.json")
        try FileManager.default.createSymbolicLink(atPath: version.storageLocation + "/model.json", withDestinationPath: outside + "/secret.txt")
        #expect { try registry.verify(version) } throws: { "\($0)".contains("leads outside the registry") }
    }

    @Test(arguments: ["..", ".", ".hidden", "a/b", "мodel", "", String(repeating: "m", count: 201)])
    func namesThatAreNotFolderNamesAreRefused(_ name: String) throws {
        let ws = try TestWorkspace()
        defer { ws.remove() }
        try FileManager.default.createDirectory(atPath: ws.path("m"), withIntermediateDirectories: true)
        try ws.write("m/model.json", "{}")
        let registry = ModelRegistry(store: try ws.store(), directory: ws.workspace.registryDirectory)
        #expect(throws: ModelRegistry.RegistryError.self) { try registry.register(name: name, from: ws.path("m"), runID: nil) }
    }
}

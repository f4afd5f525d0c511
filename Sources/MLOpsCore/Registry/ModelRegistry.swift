import Foundation

/// Registered models, their immutable versions and the aliases (`champion`, `challenger`, …) that
/// point at them. A version's number is reserved in a transaction, its files are copied through a
/// temporary folder and renamed into place, and only then is it READY: an alias never points at a
/// version that is not whole.
public struct ModelRegistry: Sendable {
    public let store: Store
    public let directory: String

    public init(store: Store, directory: String) {
        self.store = store
        self.directory = directory
    }

    public typealias RegistryError = MLOpsStore.RegistryError

    /// `NAME`, `NAME@ALIAS` or `NAME/VERSION`.
    public struct Reference: Sendable, Hashable, CustomStringConvertible {
        public var name: String
        public var alias: String?
        public var version: Int?

        public init(parsing text: String) throws(RegistryError) {
            if let at = text.firstIndex(of: "@") {
                name = String(text[..<at])
                alias = String(text[text.index(after: at)...])
            } else if let slash = text.firstIndex(of: "/") {
                name = String(text[..<slash])
                guard let v = Int(text[text.index(after: slash)...]), v > 0 else {
                    throw RegistryError("'\(text)': a version is a positive number, as in \(name)/3")
                }
                version = v
            } else {
                name = text
            }
            guard ModelRegistry.validName(name), alias.map(ModelRegistry.validName) ?? true else {
                throw RegistryError("'\(text)' is not NAME, NAME@ALIAS or NAME/VERSION (names: letters, digits, '-', '_', '.')")
            }
        }

        public var description: String { name + (alias.map { "@\($0)" } ?? "") + (version.map { "/\($0)" } ?? "") }
    }

    /// A name that is also a folder name: ASCII letters, digits, `-`, `_` and `.`, starting with a
    /// letter or digit (so never `.`, `..` or a hidden folder).
    static func validName(_ name: String) -> Bool {
        func alphanumeric(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
        guard let first = name.utf8.first, alphanumeric(first), name.utf8.count <= 200 else { return false }
        return name.utf8.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    // MARK: Registering

    /// Registers the files of `folder` as the next version of `name`, produced by `runID`.
    public func register(name: String, from folder: String, runID: String?, tags: [String: String] = [:]) throws -> ModelVersion {
        guard Self.validName(name) else { throw RegistryError("'\(name)' is not a model name (ASCII letters, digits, '-', '_', '.', starting with a letter or digit)") }
        let sourceFiles = try Self.listFiles(folder)
        guard !sourceFiles.isEmpty else { throw RegistryError("\(folder) holds no files to register") }
        let version = try store.write { tx in
            try RegistryRecords.reserveVersion(tx, name: name, runID: runID, source: folder, storageRoot: directory, tags: tags, now: store.nowMillis())
        }
        let destination = "\(directory)/\(name)/\(version)"
        let temporary = "\(directory)/\(name)/.incoming-\(version)-\(UUID().uuidString.prefix(8))"
        do {
            let manager = FileManager.default
            try manager.createDirectory(atPath: temporary, withIntermediateDirectories: true)
            var files: [ModelVersion.File] = []
            for relative in sourceFiles {
                let target = "\(temporary)/\(relative)"
                try manager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                // The contents, never a link: a version's files are its own.
                let data = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(relative)"))
                try data.write(to: URL(fileURLWithPath: target))
                files.append(.init(path: relative, sha256: SHA256Digest.hex(of: data), size: data.count))
            }
            guard rename(temporary, destination) == 0 else {
                throw RegistryError("cannot move the version into \(destination): \(String(cString: strerror(errno)))")
            }
            let digest = Self.digest(files)
            try store.write { tx in try RegistryRecords.markReady(tx, name: name, version: version, files: files, digest: digest, now: store.nowMillis()) }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            try? store.write { tx in try RegistryRecords.markFailed(tx, name: name, version: version, reason: "\(error)") }
            throw error
        }
        return try self.version(name, version)
    }

    /// The files to register; a symlink that leads out of the folder is refused, so a version
    /// cannot carry (or later serve) a file from elsewhere on the machine.
    static func listFiles(_ folder: String) throws -> [String] {
        guard let files = FolderFiles.list(folder, skippingHidden: true) else { throw RegistryError("no folder \(folder)") }
        for file in files where !ConfinedPath.isInside("\(folder)/\(file)", root: folder) {
            throw RegistryError("\(folder)/\(file) is a symlink to \(ConfinedPath.realPath("\(folder)/\(file)")), outside the model's folder; copy the file in instead")
        }
        return files
    }

    static func digest(_ files: [ModelVersion.File]) -> String {
        SHA256Digest.hex(of: Data(files.sorted { $0.path < $1.path }.map { "\($0.path) \($0.sha256)\n" }.joined().utf8))
    }

    // MARK: Reading

    public func version(_ name: String, _ version: Int) throws -> ModelVersion {
        guard let found = try store.read({ try RegistryRecords.version($0, name, version) }) else {
            throw RegistryError("model \(name) has no version \(version)")
        }
        return found
    }

    /// The version a reference names; a bare name means its `champion`, else its latest version.
    public func resolve(_ reference: Reference) throws -> ModelVersion {
        guard try store.read({ try RegistryRecords.modelExists($0, reference.name) }) else {
            let names = try models().map(\.name)
            throw RegistryError("no registered model '\(reference.name)'" + (Suggestion.hint(for: reference.name, in: names).map { "; \($0)" } ?? ""))
        }
        if let version = reference.version { return try self.version(reference.name, version) }
        let aliases = try self.aliases(reference.name)
        if let alias = reference.alias {
            guard let version = aliases[alias] else {
                throw RegistryError("model \(reference.name) has no alias '\(alias)'" + (aliases.isEmpty ? "" : " (aliases: \(aliases.keys.sorted().joined(separator: ", ")))"))
            }
            return try self.version(reference.name, version)
        }
        if let champion = aliases[ModelAlias.champion.rawValue] { return try self.version(reference.name, champion) }
        guard let latest = try store.read({ try RegistryRecords.latestReadyVersion($0, reference.name) }) else {
            throw RegistryError("model \(reference.name) has no ready version")
        }
        return try version(reference.name, latest)
    }

    public func aliases(_ name: String) throws -> [String: Int] {
        try store.read { try RegistryRecords.aliases($0, name) }
    }

    public typealias Summary = RegistryRecords.Summary

    public func models() throws -> [Summary] {
        try store.read { try RegistryRecords.summaries($0) }
    }

    public func versions(_ name: String) throws -> [ModelVersion] {
        try store.read { try RegistryRecords.versions($0, name) }
    }

    // MARK: Aliases

    /// Points `alias` at `version`, with an audit row saying from which version and why; returns
    /// the version it pointed at before. Every door (the CLI, a stage, the MLflow API) comes here;
    /// champion, challenger and previous are refused while a rollout holds them.
    @discardableResult
    public func setAlias(_ name: String, _ alias: ModelAlias, to version: Int, reason: String) throws -> Int? {
        guard Self.validName(alias.rawValue) else { throw RegistryError("'\(alias)' is not an alias name (letters, digits, '-', '_', '.')") }
        let target = try self.version(name, version)
        guard target.status == .ready else { throw RegistryError("\(target.reference) is \(target.status.rawValue), not READY; an alias points only at a whole version") }
        try verify(target)
        return try store.write { tx in
            try RegistryRecords.moveAliasOnRequest(tx, name, alias, to: version, reason: reason, now: store.nowMillis())
        }
    }

    /// Removes `alias`, audited; refused for the rollouts' aliases while a rollout holds them.
    /// Returns the version it pointed at, nil when it was not set.
    @discardableResult
    public func removeAlias(_ name: String, _ alias: ModelAlias, reason: String) throws -> Int? {
        try store.write { tx in try RegistryRecords.removeAliasOnRequest(tx, name, alias, reason: reason) }
    }

    // MARK: Deleting

    /// Deletes a version: its aliases (each audited), tags and row in one transaction, then its
    /// files. Refused while the version is served or part of a rollout in flight.
    public func deleteVersion(_ name: String, _ version: Int, reason: String) throws {
        let found = try self.version(name, version)
        try store.write { tx in try RegistryRecords.deleteVersion(tx, found, reason: reason) }
        try? FileManager.default.removeItem(atPath: found.storageLocation)
    }

    /// Deletes a model with every version, alias and tag; refused while any version is protected.
    public func deleteModel(_ name: String, reason: String) throws {
        try store.write { tx in try RegistryRecords.deleteModel(tx, name, reason: reason) }
        try? FileManager.default.removeItem(atPath: "\(directory)/\(name)")
    }

    /// Renames a model; refused while any version is protected, since rollouts and predictions
    /// are keyed by its name.
    public func renameModel(_ name: String, to newName: String) throws {
        guard Self.validName(newName) else { throw RegistryError("'\(newName)' is not a model name (ASCII letters, digits, '-', '_', '.', starting with a letter or digit)") }
        try store.write { tx in try RegistryRecords.renameModel(tx, name, to: newName, now: store.nowMillis()) }
    }

    public func tag(_ name: String, _ version: Int, _ tags: [String: String]) throws {
        _ = try self.version(name, version)
        try store.write { tx in
            for (key, value) in tags.sorted(by: { $0.key < $1.key }) { try RegistryRecords.tag(tx, name, version, key, value) }
        }
    }

    /// The version registered from the run `runID`, if any: how a gate finds the candidate it judged.
    public func version(registeredFrom runID: String, name: String) throws -> ModelVersion? {
        try store.read { try RegistryRecords.version($0, registeredFrom: runID, name: name) }
    }

    /// Every move of every alias of `name`, oldest first.
    public func aliasHistory(_ name: String) throws -> [(alias: String, entry: AuditLog.Entry)] {
        try store.read { try RegistryRecords.aliasHistory($0, name) }
    }

    // MARK: Integrity

    /// Refuses a version whose files are missing or no longer match their checksums.
    public func verify(_ version: ModelVersion) throws {
        for file in version.files {
            let path = "\(version.storageLocation)/\(file.path)"
            guard ConfinedPath.isInside(path, root: directory) else {
                throw RegistryError("\(version.reference): \(path) leads outside the registry \(directory) through a symlink; the version will not be used")
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw RegistryError("\(version.reference): \(path) is missing; the version is damaged and will not be used")
            }
            let actual = SHA256Digest.hex(of: data)
            guard actual == file.sha256 else {
                throw RegistryError("\(version.reference): \(file.path) has sha256 \(actual.prefix(12))…, registered as \(file.sha256.prefix(12))…; the file was changed after registration and will not be used")
            }
        }
    }
}

import Foundation
import MLOpsCore

/// Model versions through MLflow's API, and the search and paging the registry endpoints share.
extension MLflowRegistry {
    func createVersion(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), source = try f.required("source")
        var runID = try f.string("run_id").flatMap { $0.isEmpty ? nil : $0 }
        let tags = try f.keyValues("tags")
        let sourceModel = Self.loggedModelID(source)
        let modelID = try f.string("model_id").flatMap { $0.isEmpty ? nil : $0 } ?? sourceModel
        if let sourceModel, sourceModel != modelID {
            throw MLflowError.invalid("source", source, "it names logged model \(sourceModel) but model_id is \(modelID ?? "")")
        }
        try store.read { tx in
            _ = try model(tx, name)
            if let modelID {
                guard let logged = try LoggedModelRecords.model(tx, modelID), logged.lifecycleStage == "active" else {
                    throw MLflowError(.resourceDoesNotExist, "Logged model with ID '\(modelID)' not found.")
                }
                // The version's lineage: the run that logged the model, when the client names none.
                runID = runID ?? logged.sourceRunID
            }
        }
        let folder = try localFolder(source, runID: runID)
        let created = try registry.register(name: name, from: folder, runID: runID, tags: tags)
        let runLink = try f.string("run_link"), description = try f.string("description")
        return try store.write { tx in
            try RegistryRecords.recordOrigin(tx, name, created.version, source: source, runLink: runLink, description: description, modelID: modelID)
            if let modelID { try MLflowLoggedModels.recordRegistration(tx, modelID: modelID, name: name, version: created.version) }
            return ["model_version": Self.versionObject(try version(tx, name, created.version))]
        }
    }

    /// `models:/m-…` (a logged model) as its id.
    static func loggedModelID(_ source: String) -> String? {
        guard source.hasPrefix("models:/m-") else { return nil }
        let id = source.dropFirst("models:/".count)
        return id.contains("/") ? nil : String(id)
    }

    /// The folder on this machine that a source URI names: `runs:/RUN/PATH`, `mlflow-artifacts:/…`,
    /// `file://…` or a path. Its files are copied into the registry with their checksums.
    func localFolder(_ source: String, runID: String?) throws -> String {
        var uri = source
        if let modelID = Self.loggedModelID(source) {
            uri = try store.read { tx in try LoggedModelRecords.model(tx, modelID)?.artifactLocation } ?? ""
        } else if uri.hasPrefix("models:/") {
            // Another registered version (`models:/NAME/VERSION`): its checksummed copy.
            let parts = uri.dropFirst("models:/".count).split(separator: "/")
            guard parts.count == 2, let version = Int(parts[1]) else {
                throw MLflowError.invalid("source", source, "use models:/m-MODEL_ID or models:/NAME/VERSION")
            }
            try store.read { tx in _ = try self.version(tx, String(parts[0]), version) }
            return "\(registry.directory)/\(parts[0])/\(version)"
        }
        if uri.hasPrefix("runs:/") {
            let rest = uri.dropFirst("runs:/".count).split(separator: "/", maxSplits: 1)
            guard let run = rest.first else { throw MLflowError.invalid("source", source, "runs:/ needs a run id") }
            let artifactURI = try store.read { tx in try service.runRecord(tx, String(run)).artifactURI } ?? ""
            uri = artifactURI + (rest.count > 1 ? "/" + rest[1] : "")
        }
        if let path = MLflowArtifacts.proxiedPath(uri) {
            return try artifacts.resolve(MLflowArtifacts.pathComponents(path))
        }
        if uri.hasPrefix("file://") { uri = String(uri.dropFirst("file://".count)) }
        guard uri.hasPrefix("/") else {
            throw MLflowError(.invalidParameterValue, "Cannot register '\(source)': mlops keeps a checksummed copy of a version's files and reads models:/, runs:/, mlflow-artifacts:/ and local paths")
        }
        return uri
    }

    func getVersion(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), version = try versionNumber(f)
        return try store.read { tx in ["model_version": Self.versionObject(try self.version(tx, name, version))] }
    }

    func updateVersion(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), version = try versionNumber(f)
        let description = try f.string("description")
        return try store.write { tx in
            _ = try self.version(tx, name, version)
            try RegistryRecords.describeVersion(tx, name, version, description, now: store.nowMillis())
            return ["model_version": Self.versionObject(try self.version(tx, name, version))]
        }
    }

    func deleteVersion(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), version = try versionNumber(f)
        try store.read { tx in _ = try self.version(tx, name, version) }
        try registry.deleteVersion(name, version, reason: "deleted through the MLflow API")
        return [:]
    }

    func setVersionTag(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), version = try versionNumber(f), key = try f.required("key"), value = try f.string("value") ?? ""
        try MLflowService.validateTag(key, value)
        try store.write { tx in
            _ = try self.version(tx, name, version)
            try RegistryRecords.tag(tx, name, version, key, value)
        }
        return [:]
    }

    func deleteVersionTag(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), version = try versionNumber(f), key = try f.required("key")
        try store.write { tx in
            _ = try self.version(tx, name, version)
            try RegistryRecords.deleteVersionTag(tx, name, version, key)
        }
        return [:]
    }

    /// MLflow's deprecated stages, recorded for its clients; mlops routes by aliases.
    func transitionStage(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), version = try versionNumber(f), stage = try f.required("stage")
        let stages = ["None", "Staging", "Production", "Archived"]
        guard let canonical = stages.first(where: { $0.lowercased() == stage.lowercased() }) else {
            throw MLflowError.invalid("stage", stage, "use None, Staging, Production or Archived")
        }
        let archive = try f.bool("archive_existing_versions") ?? false
        return try store.write { tx in
            _ = try self.version(tx, name, version)
            try RegistryRecords.transitionStage(tx, name, version, to: canonical,
                                                archiveOthers: archive && (canonical == "Staging" || canonical == "Production"), now: store.nowMillis())
            return ["model_version": Self.versionObject(try self.version(tx, name, version))]
        }
    }

    func downloadURI(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), version = try versionNumber(f)
        try store.read { tx in _ = try self.version(tx, name, version) }
        return ["artifact_uri": "mlflow-artifacts:/\(MLflowArtifacts.registryPrefix)/\(name)/\(version)"]
    }

    func searchVersions(_ f: MLflowFields) throws -> [String: Any] {
        let text = try f.string("filter")
        let filter = try MLflowFilter.parse(text, Self.versionVocabulary)
        try MLflowFilter.require(filter, text, entities: [.attribute, .tag], "filter model versions on name, run_id, source, version or tags.KEY")
        return try service.page(f, default: 100, limit: 10_000, key: "model_versions",
                                fetch: { try RegistryRecords.searchVersions($0, filter: filter, page: $1) }, object: Self.versionObject)
    }

    static let versionVocabulary = RunFilter.Vocabulary(attributes: ["name", "run_id", "source", "version", "current_stage", "status"],
                                                        numericAttributes: ["version"], bareKeysAreAttributes: true)
    static let modelVocabulary = RunFilter.Vocabulary(attributes: ["name"], numericAttributes: [], bareKeysAreAttributes: true)
}

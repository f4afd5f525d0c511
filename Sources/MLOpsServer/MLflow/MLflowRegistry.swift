import Foundation
import MLOpsCore

/// MLflow's model registry endpoints on our registry: the versions `mlops models` lists, with
/// their aliases (the champion a rollout moves). A version created from a source URI is copied into
/// the registry with its checksums, as `mlops models register` does; its files are downloaded
/// through the artifact proxy at `mlflow-artifacts:/_registry/NAME/VERSION`.
struct MLflowRegistry: Sendable {
    let service: MLflowService
    let registry: ModelRegistry
    /// Resolves `mlflow-artifacts:/` sources to files on this machine.
    let artifacts: MLflowArtifacts
    var store: Store { service.store }

    func model(_ tx: StoreTransaction, _ name: String) throws -> RegistryRecords.ModelDetail {
        guard let model = try RegistryRecords.modelDetail(tx, name) else {
            throw MLflowError(.resourceDoesNotExist, "Registered Model with name=\(name) not found")
        }
        return model
    }

    func versionNumber(_ f: MLflowFields) throws -> Int {
        let text = try f.required("version")
        guard let number = Int(text) else { throw MLflowError.invalid("version", text, "a version is a whole number") }
        return number
    }

    func version(_ tx: StoreTransaction, _ name: String, _ version: Int) throws -> RegistryRecords.VersionDetail {
        guard let found = try RegistryRecords.versionDetail(tx, name, version) else {
            throw MLflowError(.resourceDoesNotExist, "Model Version (name=\(name), version=\(version)) not found")
        }
        return found
    }

    static func versionObject(_ v: RegistryRecords.VersionDetail) -> [String: Any] {
        var object: [String: Any] = [
            "name": v.name, "version": String(v.version), "creation_timestamp": v.creationTime,
            "last_updated_timestamp": v.lastUpdatedTime, "current_stage": v.currentStage,
            "status": v.status, "source": v.source ?? "",
            "tags": MLflowEntities.keyValues(v.tags), "aliases": v.aliases,
        ]
        if let run = v.runID { object["run_id"] = run }
        if let model = v.modelID { object["model_id"] = model }
        if let description = v.description { object["description"] = description }
        if let link = v.runLink { object["run_link"] = link }
        return object
    }

    static func modelObject(_ m: RegistryRecords.ModelDetail) -> [String: Any] {
        var object: [String: Any] = [
            "name": m.name, "creation_timestamp": m.creationTime, "last_updated_timestamp": m.lastUpdatedTime,
            "tags": MLflowEntities.keyValues(m.tags),
            "aliases": m.aliases.map { ["alias": $0.alias, "version": String($0.version)] },
            "latest_versions": m.latestVersions.map(versionObject),
        ]
        if let description = m.description { object["description"] = description }
        return object
    }

    // MARK: Registered models

    func createModel(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name")
        let tags = try f.keyValues("tags")
        let description = try f.string("description")
        return try store.write { tx in
            if try RegistryRecords.modelExists(tx, name) {
                throw MLflowError(.resourceAlreadyExists, "Registered Model (name=\(name)) already exists.")
            }
            try RegistryRecords.createModel(tx, name, description: description, tags: tags, now: store.nowMillis())
            return ["registered_model": Self.modelObject(try model(tx, name))]
        }
    }

    func getModel(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name")
        return try store.read { tx in ["registered_model": Self.modelObject(try model(tx, name))] }
    }

    func updateModel(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name")
        let description = try f.string("description")
        return try store.write { tx in
            _ = try model(tx, name)
            try RegistryRecords.describeModel(tx, name, description, now: store.nowMillis())
            return ["registered_model": Self.modelObject(try model(tx, name))]
        }
    }

    func renameModel(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), newName = try f.required("new_name")
        try store.read { tx in
            _ = try model(tx, name)
            if try RegistryRecords.modelExists(tx, newName) {
                throw MLflowError(.resourceAlreadyExists, "Registered Model (name=\(newName)) already exists.")
            }
        }
        try registry.renameModel(name, to: newName)
        return try store.read { tx in ["registered_model": Self.modelObject(try model(tx, newName))] }
    }

    func deleteModel(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name")
        try store.read { tx in _ = try model(tx, name) }
        try registry.deleteModel(name, reason: "deleted through the MLflow API")
        return [:]
    }

    func searchModels(_ f: MLflowFields) throws -> [String: Any] {
        let text = try f.string("filter")
        let filter = try MLflowFilter.parse(text, Self.modelVocabulary)
        try MLflowFilter.require(filter, text, entities: [.attribute, .tag], "filter registered models on name or tags.KEY")
        return try service.page(f, default: 100, limit: 10_000, key: "registered_models",
                                fetch: { try RegistryRecords.searchModels($0, filter: filter, page: $1) }, object: Self.modelObject)
    }

    func latestVersions(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name")
        let stages = try f.strings("stages")
        return try store.read { tx in
            let wanted = Set(stages.map { $0.lowercased() })
            return ["model_versions": try model(tx, name).latestVersions.filter { wanted.isEmpty || wanted.contains($0.currentStage.lowercased()) }
                .map(Self.versionObject)]
        }
    }

    func setModelTag(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), key = try f.required("key"), value = try f.string("value") ?? ""
        try MLflowService.validateTag(key, value)
        try store.write { tx in
            _ = try model(tx, name)
            try RegistryRecords.setModelTag(tx, name, key, value)
        }
        return [:]
    }

    func deleteModelTag(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), key = try f.required("key")
        try store.write { tx in
            _ = try model(tx, name)
            try RegistryRecords.deleteModelTag(tx, name, key)
        }
        return [:]
    }

    func setAlias(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), alias = try f.required("alias"), version = try versionNumber(f)
        try store.read { tx in _ = try self.version(tx, name, version) }
        _ = try registry.setAlias(name, ModelAlias(rawValue: alias), to: version, reason: "set through the MLflow API")
        return [:]
    }

    func deleteAlias(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), alias = try f.required("alias")
        try store.read { tx in _ = try model(tx, name) }
        try registry.removeAlias(name, ModelAlias(rawValue: alias), reason: "deleted through the MLflow API")
        return [:]
    }

    func versionByAlias(_ f: MLflowFields) throws -> [String: Any] {
        let name = try f.required("name"), alias = try f.required("alias")
        return try store.read { tx in
            guard let number = try RegistryRecords.version(tx, name, alias: ModelAlias(rawValue: alias)) else {
                throw MLflowError(.resourceDoesNotExist, "Registered model alias \(alias) not found.")
            }
            return ["model_version": Self.versionObject(try version(tx, name, number))]
        }
    }
}

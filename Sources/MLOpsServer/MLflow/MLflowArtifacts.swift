import Foundation
import Hummingbird
import MLOpsCore
import NIOCore

/// MLflow's artifact proxy (`/api/2.0/mlflow-artifacts/artifacts`): a run's `artifact_uri` is
/// `mlflow-artifacts:/EXPERIMENT/RUN/artifacts`, so the client uploads to and downloads from this
/// server, which keeps the files under one root. A path that tries to leave the root is refused.
struct MLflowArtifacts: Sendable {
    let root: String
    /// Registered versions' files, readable (not writable) under `_registry/NAME/VERSION`.
    let registryRoot: String
    /// The artifact folder on this machine of a run that executes on another (a Ray job), which
    /// its client reaches as `mlflow-artifacts:/_runs/RUN`; nil for any other run.
    var runFolder: @Sendable (String) -> String? = { _ in nil }
    let fileIO = FileIO()
    static let registryPrefix = "_registry"
    static let runsPrefix = "_runs"

    /// A run's folder, when the run executes elsewhere and its folder is on this machine.
    static func remoteRunFolder(_ run: RunRecord) -> String? {
        guard let executor = run.executor, executor != "local", let uri = run.artifactURI, uri.hasPrefix("/") else { return nil }
        return uri
    }

    /// The file a request path names, inside the root, or an error saying why not.
    func resolve(_ components: [Substring], writing: Bool = false) throws -> String {
        var components = components
        var root = self.root
        if components.first == Substring(Self.registryPrefix) {
            guard !writing else { throw MLflowError(.invalidParameterValue, "Registered versions are read-only; register a new version instead") }
            components.removeFirst()
            root = registryRoot
        } else if components.first == Substring(Self.runsPrefix), components.count >= 2 {
            guard let folder = runFolder(String(components[1])) else {
                throw MLflowError(.resourceDoesNotExist, "No run '\(components[1])' whose artifacts this server keeps for another machine")
            }
            components.removeFirst(2)
            root = folder
        }
        var decoded: [String] = []
        for component in components {
            guard let part = String(component).removingPercentEncoding else {
                throw MLflowError(.invalidParameterValue, "Invalid path: '\(component)' is not valid percent-encoding")
            }
            decoded.append(part)
        }
        do {
            return try ConfinedPath.resolve(decoded.joined(separator: "/"), under: root)
        } catch let refusal as ConfinedPath.Refusal {
            throw MLflowError(.invalidParameterValue, "Invalid path: \(refusal.description)")
        }
    }

    /// The path under the root that an `mlflow-artifacts:/PATH` URI names; nil for other schemes.
    static func proxiedPath(_ uri: String) -> String? {
        guard uri.hasPrefix("mlflow-artifacts:") else { return nil }
        return String(uri.dropFirst("mlflow-artifacts:".count).drop { $0 == "/" })
    }

    static func pathComponents(_ text: String?) -> [Substring] {
        (text ?? "").split(separator: "/", omittingEmptySubsequences: true)
    }

    func upload(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let components = context.parameters.getCatchAll()
        guard !components.isEmpty else { throw MLflowError(.invalidParameterValue, "Upload needs a file path after /artifacts/") }
        let path = try resolve(components, writing: true)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw MLflowError(.invalidParameterValue, "Invalid path: '\(components.joined(separator: "/"))' is a directory")
        }
        // Written beside, then renamed: a reader never sees half a file.
        let partial = path + ".partial-\(UUID().uuidString.prefix(8))"
        do {
            try await fileIO.writeFile(contents: request.body, path: partial, context: context)
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: partial, toPath: path)
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw MLflowError(.badRequest, "Could not store the artifact: \(error)")
        }
        return JSONResponse.ok("{}")
    }

    func download(_ context: some RequestContext) async throws -> Response {
        let components = context.parameters.getCatchAll()
        let path = try resolve(components)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw MLflowError(.resourceDoesNotExist, "No artifact at '\(components.joined(separator: "/"))'")
        }
        let body = try await fileIO.loadFile(path: path, context: context)
        return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: body)
    }

    /// The entries of one folder, by base name, as MLflow lists them.
    func list(_ path: String?) throws -> [String: Any] {
        let folder = try resolve(Self.pathComponents(path))
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else { return [:] }
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.contains(".partial-") }.sorted()
        let files: [[String: Any]] = names.map { name in
            let full = folder + "/" + name
            var dir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: full, isDirectory: &dir)
            var entry: [String: Any] = ["path": name, "is_dir": dir.boolValue]
            if !dir.boolValue, let size = (try? FileManager.default.attributesOfItem(atPath: full))?[.size] as? NSNumber {
                entry["file_size"] = size.int64Value
            }
            return entry
        }
        return ["files": files]
    }

    func delete(_ context: some RequestContext) throws -> Response {
        let components = context.parameters.getCatchAll()
        guard !components.isEmpty else { throw MLflowError(.invalidParameterValue, "Delete needs a path after /artifacts/") }
        let path = try resolve(components, writing: true)
        guard FileManager.default.fileExists(atPath: path) else {
            throw MLflowError(.resourceDoesNotExist, "No artifact at '\(components.joined(separator: "/"))'")
        }
        try FileManager.default.removeItem(atPath: path)
        return JSONResponse.ok("{}")
    }
}

extension RunRecord {
    /// The `artifact_uri` MLflow's clients are told: a run that executes on another machine (a Ray
    /// job) gets its files through this server's artifact proxy, since its folder is this
    /// machine's; any other run, its own.
    var clientArtifactURI: String? {
        MLflowArtifacts.remoteRunFolder(self) != nil ? "mlflow-artifacts:/\(MLflowArtifacts.runsPrefix)/\(id)" : artifactURI
    }
}

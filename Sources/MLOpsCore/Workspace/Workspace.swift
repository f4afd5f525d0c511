import Foundation

/// A folder with a jobs.yaml, and where its data lives; every path is absolute and overridable.
public struct Workspace: Sendable, Hashable {
    public var root: String
    public var specPath: String
    /// The SQLite file, or the URL of a PostgreSQL database (see `StoreLocation`).
    public var storePath: String
    public var experimentsDirectory: String
    public var registryDirectory: String

    public init(root: String, specPath: String? = nil, storePath: String? = nil) {
        let absolute = Self.absolute(root, relativeTo: FileManager.default.currentDirectoryPath)
        self.root = absolute
        self.specPath = specPath.map { Self.absolute($0, relativeTo: FileManager.default.currentDirectoryPath) } ?? "\(absolute)/jobs.yaml"
        experimentsDirectory = "\(absolute)/experiments"
        registryDirectory = "\(absolute)/registry"
        self.storePath = storePath.map { StoreLocation($0).isPostgreSQL ? $0 : Self.absolute($0, relativeTo: FileManager.default.currentDirectoryPath) }
            ?? "\(absolute)/experiments/mlops.sqlite"
    }

    /// The workspace a command works on: `--workspace`, else `MLOPS_WORKSPACE` (set inside a stage),
    /// else the current folder. Its store: `--tracking`, else `MLOPS_TRACKING`, else the spec's
    /// `tracking:`, else `experiments/mlops.sqlite` in the workspace.
    public static func resolve(workspace: String?, spec: String?, tracking: String? = nil,
                               environment: [String: String] = ProcessInfo.processInfo.environment) -> Workspace {
        let root = workspace ?? environment["MLOPS_WORKSPACE"] ?? FileManager.default.currentDirectoryPath
        var resolved = Workspace(root: root, specPath: spec, storePath: tracking ?? environment["MLOPS_TRACKING"].flatMap { $0.isEmpty ? nil : $0 })
        if tracking == nil, environment["MLOPS_TRACKING"]?.isEmpty ?? true, let named = SpecParser.tracking(inSpecAt: resolved.specPath) {
            resolved.storePath = StoreLocation(named).isPostgreSQL ? named : absolute(named, relativeTo: resolved.root)
        }
        return resolved
    }

    static func absolute(_ path: String, relativeTo base: String) -> String {
        let joined = path.hasPrefix("/") ? path : "\(base)/\(path)"
        return URL(fileURLWithPath: joined).standardizedFileURL.path
    }

    public func runDirectory(experiment: String, runID: String) -> String {
        "\(experimentsDirectory)/\(experiment)/\(runID)"
    }

    /// The commit checked out in the workspace (read from .git, no subprocess), or nil outside git.
    public func gitCommit() -> String? {
        var folder = URL(fileURLWithPath: root)
        for _ in 0..<32 {
            let dotGit = folder.appendingPathComponent(".git").path
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: dotGit, isDirectory: &isDirectory) {
                var gitDir = dotGit
                if !isDirectory.boolValue {
                    guard let text = try? String(contentsOfFile: dotGit, encoding: .utf8),
                          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("gitdir:") }) else { return nil }
                    gitDir = Self.absolute(line.dropFirst(7).trimmingCharacters(in: .whitespaces), relativeTo: folder.path)
                }
                return Self.resolveHead(gitDir: gitDir)
            }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { return nil }
            folder = parent
        }
        return nil
    }

    static func resolveHead(gitDir: String) -> String? {
        guard let head = try? String(contentsOfFile: "\(gitDir)/HEAD", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines) else { return nil }
        guard head.hasPrefix("ref: ") else { return head.count == 40 ? head : nil }
        let ref = String(head.dropFirst(5))
        // A linked worktree keeps its refs in the common folder.
        var commonDir = gitDir
        if let common = try? String(contentsOfFile: "\(gitDir)/commondir", encoding: .utf8) {
            commonDir = absolute(common.trimmingCharacters(in: .whitespacesAndNewlines), relativeTo: gitDir)
        }
        for dir in [gitDir, commonDir] {
            if let value = try? String(contentsOfFile: "\(dir)/\(ref)", encoding: .utf8) {
                return value.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        if let packed = try? String(contentsOfFile: "\(commonDir)/packed-refs", encoding: .utf8) {
            for line in packed.split(separator: "\n") where line.hasSuffix(" \(ref)") {
                return String(line.prefix(40))
            }
        }
        return nil
    }
}

import Foundation

/// A path that stays inside its root. Artifact and registry folders are handed paths by users,
/// stages and HTTP clients; `..`, an absolute path, or a symlink inside the root that points out of
/// it would otherwise read or overwrite any file the process can reach. Checked on the real path
/// (`realpath` of the deepest part that exists), as nginx's `disable_symlinks` does.
public enum ConfinedPath {
    /// Why a path was refused.
    public struct Refusal: Error, CustomStringConvertible {
        public let description: String
    }

    /// `relative` under `root`: refused when a component is `..`, `.`, empty-named through a
    /// backslash or NUL, or when it leads out of the root through a symlink.
    public static func resolve(_ relative: String, under root: String) throws -> String {
        var parts: [Substring] = []
        for part in relative.split(separator: "/", omittingEmptySubsequences: true) {
            guard part != "..", part != ".", !part.contains("\\"), !part.contains("\0") else {
                throw Refusal(description: "'\(relative)' may not contain '..', '.', backslashes or NUL")
            }
            parts.append(part)
        }
        let path = ([root] + parts.map(String.init)).joined(separator: "/")
        guard isInside(path, root: root) else {
            throw Refusal(description: "'\(relative)' leads outside \(root) through a symlink")
        }
        return path
    }

    /// Whether `path`, symlinks resolved, is `root` or below it.
    public static func isInside(_ path: String, root: String) -> Bool {
        let real = realPath(path)
        let realRoot = realPath(root)
        return real == realRoot || real.hasPrefix(realRoot == "/" ? "/" : realRoot + "/")
    }

    /// `realpath` of the deepest existing ancestor, with the rest appended: a file about to be
    /// created resolves through the folders that already exist.
    public static func realPath(_ path: String) -> String {
        var head = (path as NSString).standardizingPath
        var tail: [String] = []
        while !head.isEmpty {
            if let resolved = realpath(head, nil) {
                defer { free(resolved) }
                return ([String(cString: resolved)] + tail.reversed()).joined(separator: "/")
            }
            tail.append((head as NSString).lastPathComponent)
            let parent = (head as NSString).deletingLastPathComponent
            if parent == head { break }
            head = parent
        }
        return path
    }
}

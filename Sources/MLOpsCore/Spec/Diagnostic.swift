import Foundation

/// A place in a source file, 1-based, so an editor can jump straight to it.
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }
}

/// One problem found in a spec: what is wrong, where (location and field path), and what to do.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public var location: SourceLocation?
    /// The field path, e.g. `jobs.weekly.stages.train.needs[0]`.
    public var path: String
    public var message: String
    public var hint: String?

    public init(location: SourceLocation?, path: String, message: String, hint: String? = nil) {
        self.location = location
        self.path = path
        self.message = message
        self.hint = hint
    }

    public var description: String {
        var text = location.map { "\($0): " } ?? ""
        text += "error: \(message)"
        if !path.isEmpty { text += " (at \(path))" }
        if let hint { text += "\n    hint: \(hint)" }
        return text
    }
}

/// Every problem found in a spec at once, so a user fixes them in one pass rather than one a run.
public struct SpecError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics.sorted { lhs, rhs in
            switch (lhs.location, rhs.location) {
            case let (l?, r?): return l < r
            case (nil, _?): return false
            case (_?, nil): return true
            case (nil, nil): return lhs.path < rhs.path
            }
        }
    }

    public var description: String {
        let count = diagnostics.count
        return diagnostics.map(\.description).joined(separator: "\n")
            + "\n\(count) error\(count == 1 ? "" : "s") in spec"
    }
}

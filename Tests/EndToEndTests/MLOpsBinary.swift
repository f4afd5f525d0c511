import Foundation
import MLOpsCore
import Testing

/// The built `mlops` executable, run as a user would run it, in a temporary workspace.
struct MLOpsBinary {
    static let path: String = {
        if let explicit = ProcessInfo.processInfo.environment["MLOPS_BIN"] { return explicit }
        // swift test runs the test bundle from the build folder, beside the executable.
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [folder, folder.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("mlops").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return folder.appendingPathComponent("mlops").path
    }()

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    let root: String
    /// The workspace's store: its SQLite file, or under MLOPS_TEST_POSTGRES a database of its own,
    /// which every command run here is given as MLOPS_TRACKING.
    let storeLocation: String

    init(_ yaml: String? = nil) throws {
        root = NSTemporaryDirectory() + "mlops-e2e-" + UUID().uuidString.prefix(8)
        storeLocation = try PostgresAdmin.testDatabase() ?? root + "/experiments/mlops.sqlite"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        if let yaml { try write("jobs.yaml", yaml) }
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(toFile: "\(root)/\(name)", atomically: true, encoding: .utf8)
    }

    func read(_ name: String) throws -> String { try String(contentsOfFile: "\(root)/\(name)", encoding: .utf8) }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    /// A started `mlops` process; its output goes to files so a full pipe never blocks it.
    final class Running: @unchecked Sendable {
        let process = Process()
        let outPath: String
        let errPath: String

        /// `wrapper` runs the binary through another command (`ip netns exec … unshare …`).
        init(_ arguments: [String], cwd: String, environment: [String: String], wrapper: [String] = []) throws {
            outPath = cwd + "/.out-\(UUID().uuidString.prefix(6))"
            errPath = cwd + "/.err-\(UUID().uuidString.prefix(6))"
            FileManager.default.createFile(atPath: outPath, contents: nil)
            FileManager.default.createFile(atPath: errPath, contents: nil)
            process.executableURL = URL(fileURLWithPath: wrapper.first ?? MLOpsBinary.path)
            process.arguments = wrapper.isEmpty ? arguments : Array(wrapper.dropFirst()) + [MLOpsBinary.path] + arguments
            process.currentDirectoryURL = URL(fileURLWithPath: cwd)
            var env = ProcessInfo.processInfo.environment
            for key in env.keys where key.hasPrefix("MLOPS_") { env[key] = nil }
            env.merge(environment) { _, new in new }
            process.environment = env
            process.standardOutput = FileHandle(forWritingAtPath: outPath)
            process.standardError = FileHandle(forWritingAtPath: errPath)
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        var pid: Int32 { process.processIdentifier }

        func wait() -> Output {
            process.waitUntilExit()
            let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
            let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
            return Output(status: process.terminationStatus, stdout: out, stderr: err)
        }

        func stderrSoFar() -> String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

        /// The port a server prints on its first `http://HOST:PORT` line (with `--port 0`); 0 when it
        /// printed none within `seconds`.
        func announcedPort(within seconds: Double = 20) -> Int {
            var port = 0
            _ = MLOpsBinary.eventually(seconds) {
                let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
                guard let line = out.split(separator: "\n").first(where: { $0.contains("http://") }),
                      let value = line.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) else { return false }
                port = value
                return true
            }
            return port
        }
    }

    var usesPostgreSQL: Bool { StoreLocation(storeLocation).isPostgreSQL }

    /// The workspace's store, opened as a command would open it.
    func store() throws -> Store { try Store(path: storeLocation) }

    func start(_ arguments: [String], environment: [String: String] = [:], wrapper: [String] = []) throws -> Running {
        var environment = environment
        if usesPostgreSQL && environment["MLOPS_TRACKING"] == nil { environment["MLOPS_TRACKING"] = storeLocation }
        return try Running(arguments, cwd: root, environment: environment, wrapper: wrapper)
    }

    @discardableResult
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Output {
        try start(arguments, environment: environment).wait()
    }

    func json(_ arguments: [String]) throws -> Any {
        let output = try run(arguments + ["--json"])
        #expect(output.status == 0, "\(arguments): \(output.stderr)")
        return try JSONSerialization.jsonObject(with: Data(output.stdout.utf8))
    }

    /// Waits until `condition` holds, polling; false after `seconds`.
    static func eventually(_ seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(20_000)
        }
        return try condition()
    }
}

func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 }

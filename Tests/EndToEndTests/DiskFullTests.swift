import Foundation
import MLOpsCore
import Testing

/// A stage that fills the disk fails its run, and the run says so: the store keeps a small
/// reserve and gives it back to record the failure. Needs root (a tmpfs mount): SKIPPED
/// otherwise, except under CI (MLOPS_REQUIRE_ROOT=1), where it must run.
@Suite("A full disk", .serialized)
struct DiskFullTests {
    @Test func aStageThatFillsTheDiskFailsItsRunAndTheStoreSurvives() throws {
        let cli = try MLOpsBinary()
        defer { cli.remove() }
        let mount = cli.root + "/small"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        let mounted = try cli.runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", mount])
        guard mounted == 0 else {
            #expect(ProcessInfo.processInfo.environment["MLOPS_REQUIRE_ROOT"] == nil, "mounting a tmpfs failed under CI")
            print("SKIPPED: a full disk needs a tmpfs mount (root)")
            return
        }
        defer { _ = try? cli.runTool("/bin/umount", ["-l", mount]) }
        // The command's own output goes to files in cli.root, off the small disk.
        func mlops(_ arguments: [String]) throws -> MLOpsBinary.Output { try cli.run(arguments + ["-C", mount], environment: ["MLOPS_TRACKING": mount + "/experiments/mlops.sqlite"]) }
        try write(mount + "/jobs.yaml", """
            version: 1
            jobs:
              fill:
                stages:
                  a: { shell: true, run: 'mlops log metric before 1' }
                  b: { needs: [a], shell: true, run: 'head -c 16000000 /dev/zero > big.bin' }
            """)
        let run = try mlops(["run", "fill"])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stdout.contains("No space left on device") || run.stderr.contains("No space left on device"), "\(run.stdout)\(run.stderr)")
        let store = try Store(path: mount + "/experiments/mlops.sqlite")
        let statuses = try store.read { try String.fetchAll($0.db, sql: "SELECT status FROM runs WHERE kind = 'job'") }
        #expect(statuses == ["FAILED"])
        #expect(try store.read { try String.fetchOne($0.db, sql: "PRAGMA integrity_check") } == "ok")
        // With the disk still full, the next change is refused with a message that says what to do.
        try? FileManager.default.removeItem(atPath: mount + "/experiments/.mlops-disk-reserve")
        _ = try cli.runTool("/bin/sh", ["-c", "cat /dev/zero > \(mount)/more.bin 2>/dev/null"])
        let refused = try mlops(["log", "metric", "x", "1", "--run", try #require(try store.read {
            try String.fetchOne($0.db, sql: "SELECT run_uuid FROM runs WHERE kind = 'job'") })])
        #expect(refused.status != 0 && refused.stderr.contains("is full") && refused.stderr.contains("free space"), "\(refused.stderr)")
        // Space freed: it runs again.
        try FileManager.default.removeItem(atPath: mount + "/more.bin")
        try FileManager.default.removeItem(atPath: mount + "/big.bin")
        try write(mount + "/jobs.yaml", "version: 1\njobs:\n  fill:\n    stages:\n      a: { run: \"true\" }\n")
        #expect(try mlops(["run", "fill"]).status == 0)
    }

    func write(_ path: String, _ text: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}

extension MLOpsBinary {
    /// Runs a system tool; its exit status.
    func runTool(_ path: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

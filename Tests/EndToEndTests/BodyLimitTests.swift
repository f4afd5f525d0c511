import Foundation
import Testing

/// An oversized body is answered at once, even by a client that sends all of it before it reads
/// and asks for `Connection: close` (Python's urllib): the server reads and drops the rest, then
/// answers, instead of leaving both sides waiting until the client times out.
@Suite("Request bodies over the limit", .serialized)
struct BodyLimitTests {
    /// Posts 64 MiB with urllib; prints the status and the seconds it took.
    static let client = """
        import sys, time, urllib.request, urllib.error
        body = b"{" + b" " * (64 << 20) + b"}"
        start = time.time()
        request = urllib.request.Request(sys.argv[1], data=body, method="POST",
                                         headers={"Content-Type": "application/json", "Connection": "close"})
        try:
            status = urllib.request.urlopen(request, timeout=20).status
        except urllib.error.HTTPError as error:
            status = error.code
        except Exception as error:
            status = type(error).__name__
        print(status, round(time.time() - start, 2))
        """

    func post(_ url: String, in cli: MLOpsBinary) throws -> (status: String, seconds: Double) {
        try cli.write("client.py", Self.client)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", cli.root + "/client.py", url]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        process.waitUntilExit()
        let words = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: " ")
        return (words.first.map(String.init) ?? "", words.count > 1 ? Double(words[1].trimmingCharacters(in: .whitespacesAndNewlines)) ?? 99 : 99)
    }

    @Test(arguments: [("serve", "/v1/feedback", "413"), ("serve", "/api/2.0/mlflow/runs/log-batch", "400"),
                      ("server", "/api/2.0/mlflow/runs/log-batch", "400")])
    func anOversizedBodyIsAnsweredPromptly(_ command: String, _ path: String, _ expected: String) throws {
        let cli = try MLOpsBinary("version: 1\njobs:\n  j:\n    stages:\n      a: { run: \"true\" }\n")
        defer { cli.remove() }
        let server = try cli.start([command, "--port", "0"])
        defer { server.process.terminate(); _ = server.wait() }
        let port = server.announcedPort()
        #expect(port > 0, "\(command) did not start: \(server.stderrSoFar())")
        let answer = try post("http://127.0.0.1:\(port)\(path)", in: cli)
        #expect(answer.status == expected, "\(command) \(path): \(answer)")
        #expect(answer.seconds < 10, "\(command) \(path) took \(answer.seconds) s")
        // The server still answers afterwards.
        #expect(try post("http://127.0.0.1:\(port)\(path)", in: cli).status == expected)
    }
}

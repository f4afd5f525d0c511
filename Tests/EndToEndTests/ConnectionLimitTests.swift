import Foundation
import Testing

/// A slow client cannot hold a connection for ever, and many cannot take them all: a request's
/// head and body have deadlines that a byte every half second does not reset (an idle timeout
/// alone would), and past the connection ceiling new clients wait until one closes.
@Suite("Connection ceiling and request deadlines", .serialized)
struct ConnectionLimitTests {
    /// Drips a request one byte per 0.4 s; prints how it ended ("closed" or "answered") and when.
    static let drip = """
        import socket, sys, time
        port, phase, path = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode()
        head = b"POST " + path + b" HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\nContent-Length: 400\\r\\n\\r\\n"
        s = socket.create_connection(("127.0.0.1", port))
        start = time.time()
        if phase == "body":
            s.sendall(head)
            data = b" " * 400
        else:
            data = head
        outcome = "held"
        for byte in data:
            try:
                s.sendall(bytes([byte]))
            except OSError:
                outcome = "closed"
                break
            s.settimeout(0.4)
            try:
                if s.recv(4096) == b"":
                    outcome = "closed"
                    break
                outcome = "answered"
                break
            except socket.timeout:
                pass
            except OSError:
                outcome = "closed"
                break
            if time.time() - start > 20:
                break
        print(outcome, round(time.time() - start, 1))
        """

    /// Opens `n` keep-alive connections that each finish one request, then a further one; prints
    /// whether it was answered within 1.5 s, then whether it is once one of the first closes.
    static let ceiling = """
        import socket, sys
        port, n = int(sys.argv[1]), int(sys.argv[2])
        request = b"GET /health HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"
        held = []
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(request)
            s.settimeout(5)
            s.recv(4096)
            held.append(s)
        extra = socket.create_connection(("127.0.0.1", port))
        extra.sendall(request)
        extra.settimeout(1.5)
        try:
            first = "answered" if extra.recv(4096) else "closed"
        except socket.timeout:
            first = "waiting"
        held.pop().close()
        extra.settimeout(5)
        try:
            second = "answered" if extra.recv(4096) else "closed"
        except socket.timeout:
            second = "waiting"
        print(first, second)
        """

    func python(_ script: String, _ arguments: [String], in cli: MLOpsBinary) throws -> [String] {
        try cli.write("client.py", script)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", cli.root + "/client.py"] + arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        process.waitUntilExit()
        return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(whereSeparator: \.isWhitespace).map(String.init)
    }

    static let spec = "version: 1\njobs:\n  j:\n    stages:\n      a: { run: \"true\" }\n"

    @Test(arguments: [("serve", "head"), ("serve", "body"), ("server", "head"), ("server", "body")])
    func aDrippingClientIsCutOff(_ command: String, _ phase: String) throws {
        let path = command == "serve" ? "/v1/feedback" : "/api/2.0/mlflow/runs/log-batch"
        let cli = try MLOpsBinary(Self.spec)
        defer { cli.remove() }
        let server = try cli.start([command, "--port", "0", "--header-timeout", "2", "--body-timeout", "2"])
        defer { server.process.terminate(); _ = server.wait() }
        let port = server.announcedPort()
        #expect(port > 0, "\(command) did not start: \(server.stderrSoFar())")
        let outcome = try python(Self.drip, [String(port), phase, path], in: cli)
        // The drip would take 40 s (head) or 160 s (body) to finish; the deadline cuts it at ~2 s.
        #expect(outcome.first == "closed", "\(command), dripping the \(phase): \(outcome)")
        #expect((outcome.last.flatMap(Double.init) ?? 99) < 15, "\(command), dripping the \(phase): \(outcome)")
    }

    @Test func pastTheCeilingAClientWaitsForAFreeConnection() throws {
        let cli = try MLOpsBinary(Self.spec)
        defer { cli.remove() }
        let server = try cli.start(["serve", "--port", "0", "--max-connections", "3"])
        defer { server.process.terminate(); _ = server.wait() }
        let port = server.announcedPort()
        #expect(port > 0, "serve did not start: \(server.stderrSoFar())")
        #expect(try python(Self.ceiling, [String(port), "3"], in: cli) == ["waiting", "answered"])
    }

    @Test func limitsMustBePositive() throws {
        let cli = try MLOpsBinary(Self.spec)
        defer { cli.remove() }
        let result = try cli.run(["serve", "--port", "0", "--header-timeout", "0"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--header-timeout"), "\(result.stderr)")
    }
}

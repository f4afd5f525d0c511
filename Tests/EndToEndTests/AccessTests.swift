import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// Loopback by default; beyond it a bearer token, checked on every route but the probes.
@Suite("Who may call the servers", .serialized)
struct AccessTests {
    static let spec = "version: 1\njobs:\n  j:\n    stages:\n      a: { run: \"true\" }\n"

    func status(_ url: String, token: String? = nil) async throws -> Int {
        var request = URLRequest(url: URL(string: url)!)
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    @Test(arguments: ["serve", "server"])
    func beyondLoopbackWithoutATokenTheServerRefusesToStartAndSaysHow(_ command: String) throws {
        let cli = try MLOpsBinary(Self.spec)
        defer { cli.remove() }
        let refused = try cli.run([command, "--host", "0.0.0.0", "--port", "0"])
        #expect(refused.status != 0)
        for words in ["without a token", "MLOPS_TOKEN", "--token-file", "--insecure"] {
            #expect(refused.stderr.contains(words), "\(refused.stderr)")
        }
        // --insecure overrides, and says so.
        let open = try cli.start([command, "--host", "0.0.0.0", "--port", "0", "--insecure"])
        defer { open.process.terminate(); _ = open.wait() }
        #expect(open.announcedPort() > 0, "\(open.stderrSoFar())")
        #expect(open.stderrSoFar().contains("WARNING: serving on 0.0.0.0 with no token"))
    }

    @Test(arguments: [("serve", "/v1/models"), ("server", "/api/2.0/mlflow/experiments/search?max_results=5")])
    func aTokenIsRequiredOnEveryRouteButTheProbes(_ command: String, _ path: String) async throws {
        let cli = try MLOpsBinary(Self.spec)
        defer { cli.remove() }
        try cli.write("token", "s3cret-token\n")
        let server = try cli.start([command, "--port", "0", "--token-file", cli.root + "/token"])
        defer { server.process.terminate(); _ = server.wait() }
        let port = server.announcedPort()
        #expect(port > 0, "\(server.stderrSoFar())")
        let base = "http://127.0.0.1:\(port)"
        #expect(try await status(base + "/health") == 200)
        #expect(try await status(base + path) == 401)
        #expect(try await status(base + path, token: "s3cret-tokeN") == 401)
        #expect(try await status(base + path, token: "s3cret") == 401)
        #expect(try await status(base + path, token: "s3cret-token") == 200)
        // MLOPS_TOKEN works the same way.
        let viaEnvironment = try cli.start([command, "--port", "0"], environment: ["MLOPS_TOKEN": "from-env"])
        defer { viaEnvironment.process.terminate(); _ = viaEnvironment.wait() }
        let other = "http://127.0.0.1:\(viaEnvironment.announcedPort())"
        #expect(try await status(other + path) == 401)
        #expect(try await status(other + path, token: "from-env") == 200)
    }
}

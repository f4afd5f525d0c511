import ArgumentParser
import Foundation
import MLOpsCore
import MLOpsServer

/// Where a server listens and who may call it: loopback by default; any other address needs a
/// bearer token (`MLOPS_TOKEN` or `--token-file`), or `--insecure`.
struct ExposureOptions: ParsableArguments {
    @Option(help: "The address to bind. Beyond loopback a token is required (MLOPS_TOKEN or --token-file).")
    var host = "127.0.0.1"

    @Option(help: "A file holding the bearer token clients must send (default: the MLOPS_TOKEN variable).")
    var tokenFile: String?

    @Flag(help: "Serve beyond loopback without a token: anyone who can reach the port can read and change the store.")
    var insecure = false

    @Option(help: "Connections open at once; more wait until one closes.")
    var maxConnections = 1024

    @Option(help: "Seconds a client has to send a request's head (slow clients are cut off).")
    var headerTimeout = 30

    @Option(help: "Seconds a client has to send a request's body, plus one per 64 KiB sent.")
    var bodyTimeout = 30

    /// The connection ceiling and request deadlines.
    func connections() throws -> ConnectionLimits {
        guard maxConnections > 0, headerTimeout > 0, bodyTimeout > 0 else {
            throw CLIError.invalidInput("--max-connections, --header-timeout and --body-timeout must be positive")
        }
        var limits = ConnectionLimits()
        limits.maxConnections = maxConnections
        limits.headerTimeout = .seconds(headerTimeout)
        limits.bodyTimeout = .seconds(bodyTimeout)
        return limits
    }

    /// The access policy, or an invalid-input error that says how to give a token.
    func policy() throws -> AccessPolicy {
        let policy: AccessPolicy
        do {
            policy = try AccessPolicy.resolve(host: host, tokenFile: tokenFile, insecure: insecure)
        } catch let refusal as AccessPolicy.Refusal {
            throw CLIError.invalidInput(refusal.description)
        }
        if policy.insecure {
            Console.shared.write("WARNING: serving on \(host) with no token (--insecure): anyone who can reach this port can read and change the store\n",
                                 to: .stderr)
        }
        return policy
    }
}

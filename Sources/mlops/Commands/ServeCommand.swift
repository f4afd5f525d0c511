import ArgumentParser
import Foundation
import MLOpsCore
import MLOpsServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the workspace's models over HTTP, routed by their rollouts.",
        discussion: """
            POST /v1/models/NAME/predict   {"entity_id": "c1", "features": {...}} or {"instances": [...]}
            POST /v1/feedback              {"prediction_id": 12, "label": 1} or {"entity_id": "c1", "model": "NAME", "label": 1}
            GET  /v1/models/NAME           the model's routing and rollout
            GET  /health, /ready, /metrics (Prometheus)
            Rollout changes are picked up within --refresh-ms; SIGINT/SIGTERM stop it gracefully.
            """)

    @OptionGroup var exposure: ExposureOptions
    @Option(help: "The port (0: any free port, printed at start).") var port = 8080
    @Option(help: "Refuse request bodies over this many bytes.") var maxBodyBytes = 1 << 20
    @Option(help: "How often to re-read rollouts and aliases, in milliseconds.") var refreshMs = 250
    @Option(help: "How often to move rollouts on (bakes, analyses), in seconds.") var advanceEvery = 10
    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        let host = exposure.host
        var configuration = ModelServer.Configuration()
        configuration.access = try await reportingErrors { try exposure.policy() }
        configuration.connections = try await reportingErrors { try exposure.connections() }
        configuration.host = host
        configuration.port = port
        configuration.maxBodyBytes = maxBodyBytes
        configuration.refreshInterval = .milliseconds(max(10, refreshMs))
        configuration.advanceEvery = .seconds(max(1, advanceEvery))
        let server = ModelServer(workspace: options.resolved, configuration: configuration)
        try await reportingErrors {
            do {
                try await server.run { port in
                    Console.shared.write("serving on http://\(host):\(port)\n")
                }
            } catch let error as CLIError {
                throw error
            } catch {
                throw CLIError.failed("cannot serve on \(host):\(port): \(error)")
            }
        }
    }
}

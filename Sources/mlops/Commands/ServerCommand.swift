import ArgumentParser
import Foundation
import MLOpsCore
import MLOpsServer

struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Serve MLflow's tracking API on the workspace's store, for the mlflow client and its scripts.",
        discussion: """
            export MLFLOW_TRACKING_URI=http://127.0.0.1:5000, then mlflow.log_metric(...), mlflow.search_runs(...), \\
            mlflow.register_model(...) work as against MLflow's own server, and land in the history mlops runs and \\
            mlops models show. Serves /api/2.0/mlflow/…, the artifact proxy /api/2.0/mlflow-artifacts/artifacts \\
            and /api/3.0/mlflow/server-info. SIGINT/SIGTERM stop it gracefully.
            """)

    @OptionGroup var exposure: ExposureOptions
    @Option(help: "The port (0: any free port, printed at start).") var port = 5000
    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        let host = exposure.host
        let server = TrackingServer(workspace: options.resolved, host: host, port: port,
                                    access: try await reportingErrors { try exposure.policy() },
                                    connections: try await reportingErrors { try exposure.connections() })
        try await reportingErrors {
            do {
                try await server.run { port in
                    Console.shared.write("MLflow tracking API on http://\(host):\(port)\n")
                }
            } catch let error as CLIError {
                throw error
            } catch {
                throw CLIError.failed("cannot serve on \(host):\(port): \(error)")
            }
        }
    }
}

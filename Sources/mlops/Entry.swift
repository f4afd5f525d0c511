import ArgumentParser
import Dispatch
import Foundation
import MLOpsCore
import MLOpsServer

/// The process entry. `mlops serve` first hands Swift concurrency's global executor to SwiftNIO's
/// event loops (which must happen on the main thread, before any task), so a request is parsed,
/// handled and answered on one thread instead of hopping between two pools.
@main
enum Entry {
    static func main() {
        StartupTrace.mark("main")
        if CommandLine.arguments.dropFirst().first == "serve", !ModelServer.runTasksOnEventLoops() {
            FileHandle.standardError.write(Data("note: tasks stay on Swift's global pool (SwiftNIO's event loops could not take them)\n".utf8))
        }
        Task {
            // What AsyncParsableCommand.main() does, with the trace's marks between the steps.
            StartupTrace.mark("first task")
            do {
                var command = try MLOps.parseAsRoot()
                StartupTrace.mark("command line parsed")
                if var command = command as? any AsyncParsableCommand {
                    try await command.run()
                } else {
                    try command.run()
                }
            } catch {
                MLOps.exit(withError: error)
            }
            exit(0)
        }
        dispatchMain()
    }
}

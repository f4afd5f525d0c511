import ArgumentParser
import Foundation
import MLOpsCore

/// Where a command finds the spec and the store.
struct WorkspaceOptions: ParsableArguments {
    @Option(name: [.customShort("C"), .long], help: "The workspace folder (default: MLOPS_WORKSPACE, else the current folder).")
    var workspace: String?

    @Option(name: [.customShort("f"), .long], help: "The spec (default: WORKSPACE/jobs.yaml).")
    var file: String?

    @Option(name: .long, help: ArgumentHelp("The store: a SQLite file or a postgresql://user:password@host:port/database URL (default: MLOPS_TRACKING, else `tracking:` in the spec, else WORKSPACE/experiments/mlops.sqlite).", valueName: "file-or-url"))
    var tracking: String?

    var resolved: Workspace { Workspace.resolve(workspace: workspace, spec: file, tracking: tracking) }

    func openStore() throws -> Store {
        let workspace = resolved
        do {
            return try Store(path: workspace.storePath)
        } catch let error as StoreError {
            throw CLIError.invalidInput(error.description)
        } catch {
            throw CLIError.invalidInput("cannot open the store at \(StoreLocation(workspace.storePath)): \(error)")
        }
    }

    func loadSpec() throws -> JobsFile {
        do {
            return try SpecParser.load(path: resolved.specPath)
        } catch {
            Console.shared.write(error.description + "\n", to: .stderr)
            throw ExitCode(CLIError.invalidInputCode)
        }
    }
}

/// Errors that end a command with a message and a meaningful exit status.
enum CLIError: Error, CustomStringConvertible {
    case invalidInput(String)
    case failed(String)
    case refused(String)

    static let failureCode: Int32 = 1
    static let invalidInputCode: Int32 = 2
    static let refusedCode: Int32 = 3

    var description: String {
        switch self {
        case let .invalidInput(m), let .failed(m), let .refused(m): return m
        }
    }

    var code: Int32 {
        switch self {
        case .invalidInput: return Self.invalidInputCode
        case .failed: return Self.failureCode
        case .refused: return Self.refusedCode
        }
    }
}

/// Runs `body`, turning known errors into a message on stderr and the right exit status.
func reportingErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as CLIError {
        printError(error.description)
        throw ExitCode(error.code)
    } catch let error as Tracker.TrackingError {
        printError(error.description)
        throw ExitCode(CLIError.invalidInputCode)
    } catch let error as MetricCSV.ParseError {
        printError(error.description)
        throw ExitCode(CLIError.invalidInputCode)
    } catch let error as RunFilter.ParseError {
        printError(error.description)
        throw ExitCode(CLIError.invalidInputCode)
    }
}

/// `error: …` on standard error. Messages quote names and values users wrote; control characters
/// in them are made visible, line breaks kept.
func printError(_ description: String) {
    Console.shared.write("error: \(TextEscaping.terminal(description, keepingLineBreaks: true))\n", to: .stderr)
}

/// `--json` output: pretty, sorted keys, so it diffs well.
func printJSON(_ object: Any) {
    Console.shared.write(JSONWriter.text(object, pretty: true) + "\n")
}

/// The bytes of a command's file argument, `-` meaning standard input.
func readInput(_ path: String) throws -> Data {
    if path == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
    guard let contents = FileManager.default.contents(atPath: path) else { throw CLIError.invalidInput("cannot read \(path)") }
    return contents
}

import Foundation
import Testing

/// Names, params and tags are whatever a stage or an MLflow client wrote. Shown on a terminal,
/// an escape sequence in them must not reach it (it could retitle the window, hide lines or
/// fake output); in CSV, a cell that starts like a formula must not run in a spreadsheet.
@Suite("What users wrote is escaped where it is shown")
struct EscapingTests {
    static let hostile = "\u{1B}]0;pwned\u{7}\u{1B}[2J=HYPERLINK(\"http://evil\",\"x\")"

    func workspaceWithAHostileRun() throws -> (MLOpsBinary, String) {
        let cli = try MLOpsBinary("version: 1\njobs:\n  j:\n    stages:\n      a: { run: \"true\" }\n")
        let ran = try cli.run(["run", "j"])
        #expect(ran.status == 0, "\(ran.stderr)")
        let listed = try cli.run(["runs", "--json"])
        let runs = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] ?? []
        let id = try #require(runs.first?["run_id"] as? String)
        for (kind, key, value) in [("param", "p\u{1B}[31m", Self.hostile), ("tag", "team", Self.hostile), ("metric", "auc\u{1B}[8m", "0.5"),
                                   ("param", "offset", "-0.5"), ("param", "sum", "+1+2")] {
            let logged = try cli.run(["log", kind, "--run", id, "--", key, value])
            #expect(logged.status == 0, "log \(kind): \(logged.stderr)")
        }
        return (cli, id)
    }

    @Test func noEscapeSequenceReachesTheTerminal() throws {
        let (cli, id) = try workspaceWithAHostileRun()
        defer { cli.remove() }
        for arguments in [["runs"], ["runs", "show", id], ["runs", "--metric", "auc\u{1B}[8m"]] {
            let shown = try cli.run(arguments)
            #expect(shown.status == 0, "\(arguments): \(shown.stderr)")
            #expect(!shown.stdout.contains("\u{1B}"), "\(arguments) wrote an escape byte: \(shown.stdout.debugDescription)")
            #expect(!shown.stdout.contains("\u{7}"), "\(arguments) wrote a bell byte")
        }
        let show = try cli.run(["runs", "show", id])
        #expect(show.stdout.contains("\\u{1b}]0;pwned\\u{7}"), "the escape is shown, not dropped: \(show.stdout)")
        // An error that quotes what the user typed does not pass it through either.
        let error = try cli.run(["log", "metric", "x", "\u{1B}[2Jhigh", "--run", id])
        #expect(error.status != 0 && !error.stderr.contains("\u{1B}") && error.stderr.contains("\\u{1b}[2Jhigh"), "\(error.stderr)")
    }

    @Test func csvCellsDoNotRunAsFormulas() throws {
        let (cli, id) = try workspaceWithAHostileRun()
        defer { cli.remove() }
        let csv = try cli.run(["runs", "--csv"])
        #expect(csv.status == 0, "\(csv.stderr)")
        let lines = csv.stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.count == 2, "\(csv.stdout)")
        let header = lines[0]
        #expect(header.hasPrefix("run_id,name,job,status,trigger,start_time,duration_ms,"))
        #expect(header.contains("params.offset") && header.contains("tags.team"))
        let row = lines[1]
        #expect(row.hasPrefix(id + ","))
        // The formula-like text is quoted (it holds a quote and a comma) and starts with a '.
        #expect(row.contains("\"'\u{1B}]0;pwned") == false, "the escape byte is first, so no formula prefix is needed")
        #expect(row.contains("'+1+2"), "\(row)")
        #expect(row.contains(",-0.5,"), "a plain number stays a number: \(row)")
        #expect(!row.contains(",=") && !row.contains(",\"=") && !row.contains(",+") && !row.contains(",@"), "\(row)")
    }
}

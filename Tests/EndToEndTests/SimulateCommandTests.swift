import Foundation
import Testing

@Suite("A simulated year, on the repository's own jobs.yaml")
struct SimulateCommandTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A deliberately bad candidate (trained on a corrupted label feed) is caught on live outcomes
    /// and rolled back; the champion never changes; the same seed gives the same weeks.
    @Test func aBadCandidateIsRolledBackAndTheSameSeedGivesTheSameWeeks() throws {
        let cli = try MLOpsBinary(try String(contentsOf: Self.repository.appendingPathComponent("jobs.yaml"), encoding: .utf8))
        defer { cli.remove() }
        let arguments = ["simulate", "--weeks", "10", "--customers", "2000", "--drift-week", "0", "--bad-candidate-week", "3", "--json"]
        let first = try cli.run(arguments + ["--workspace", cli.root + "/a"])
        #expect(first.status == 0, "\(first.stderr)")
        let weeks = try #require(try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [[String: Any]])
        #expect(weeks.count == 10)
        let events = weeks.map { ($0["events"] as? [String]) ?? [] }
        #expect(events[0] == ["promote v1"])
        #expect(events[3].contains("canary v2") || events[3].contains("gate failed"))
        #expect(events.joined().contains { $0 == "rollback v2" || $0 == "gate failed" })
        #expect(weeks.allSatisfy { ($0["champion"] as? Int) == 1 })
        #expect(FileManager.default.fileExists(atPath: cli.root + "/a/simulation.svg"))
        // A simulation keeps its own SQLite store in its workspace, whatever store the team uses.
        let history = try cli.run(["runs", "--json", "-C", cli.root + "/a"], environment: ["MLOPS_TRACKING": cli.root + "/a/experiments/mlops.sqlite"])
        let runs = try #require(try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]])
        #expect(runs.count >= 10)

        let second = try cli.run(arguments + ["--workspace", cli.root + "/b"])
        #expect(second.stdout == first.stdout)
        let refused = try cli.run(arguments + ["--workspace", cli.root + "/a"])
        #expect(refused.status == 2 && refused.stderr.contains("is not empty"))
    }

    /// The same seed gives the same table with drift, retrains, a rollout and a re-anchored
    /// baseline, however busy the machine is: three simulations at once, on two cores.
    @Test func theSameSeedGivesTheSameTableUnderLoad() throws {
        let cli = try MLOpsBinary(try String(contentsOf: Self.repository.appendingPathComponent("jobs.yaml"), encoding: .utf8))
        defer { cli.remove() }
        let arguments = ["simulate", "--weeks", "14", "--customers", "2000", "--drift-week", "5", "--bad-candidate-week", "9", "--json"]
        let runs = try ["a", "b", "c"].map { try cli.start(arguments + ["--workspace", cli.root + "/" + $0]) }.map { $0.wait() }
        for run in runs { #expect(run.status == 0, "\(run.stderr)") }
        let weeks = try #require(try JSONSerialization.jsonObject(with: Data(runs[0].stdout.utf8)) as? [[String: Any]])
        #expect(weeks.count == 14)
        // The drift is seen, and the loop closes: retrains, then a promotion.
        #expect(weeks.contains { ($0["drift_share"] as? Double ?? 0) > 0 })
        #expect(weeks.contains { (($0["events"] as? [String]) ?? []).contains("retrain") })
        #expect(runs[1].stdout == runs[0].stdout)
        #expect(runs[2].stdout == runs[0].stdout)
    }
}

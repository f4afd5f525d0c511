import Foundation
import Testing

@Suite("mlops monitor")
struct MonitorCommandTests {
    /// A weekly job that scores with `p`, and a hit-rate monitor on it.
    static let spec = """
        version: 1
        jobs:
          weekly:
            stages:
              ingest: { uses: synthetic-cohort, with: { customers: 300, week: 6, history_weeks: 2 } }
              train: { needs: [ingest], uses: logistic-regression }
              deploy: { needs: [train], uses: deploy, with: { model: p } }
              score: { needs: [deploy], uses: score, with: { model: p, top_k: 30 } }
        monitors:
          p-hit-rate: { model: p, metric: hit_rate, baseline: 0.3, min_samples: 50, on_drop: { run: weekly } }
        """

    @Test func showsEvaluatesAndRefusesUnknownMonitors() throws {
        let cli = try MLOpsBinary(Self.spec)
        defer { cli.remove() }
        #expect(try cli.run(["run", "weekly", "-q"]).status == 0)
        #expect(try cli.run(["monitor"]).stdout.contains("not evaluated"))
        let rows = try #require(try cli.json(["monitor", "--evaluate"]) as? [[String: Any]])
        #expect(rows.first?["verdict"] as? String == "insufficient")
        #expect((rows.first?["reason"] as? String)?.contains("0 mature outcomes in the last 7d, 50 needed") == true)
        #expect(rows.first?["baseline"] as? Double == 0.3)
        let unknown = try cli.run(["monitor", "p-hit-rte"])
        #expect(unknown.status == 2 && unknown.stderr.contains("did you mean 'p-hit-rate'?"))
    }
}

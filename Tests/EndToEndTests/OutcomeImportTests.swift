import Foundation
import MLOpsCore
import Testing

/// `mlops outcomes import` as a user runs it after a weekly scoring.
@Suite("Outcome import")
struct OutcomeImportTests {
    static let spec = """
        version: 1
        jobs:
          weekly:
            stages:
              ingest: { uses: synthetic-cohort, with: { customers: 300, week: 6, history_weeks: 2 } }
              train: { needs: [ingest], uses: logistic-regression }
              deploy: { needs: [train], uses: deploy, with: { model: p } }
              score: { needs: [deploy], uses: score, with: { model: p, top_k: 30 } }
        """

    @Test func importsWholeFilesOrNothingAndSaysWhichLines() throws {
        let cli = try MLOpsBinary(Self.spec)
        defer { cli.remove() }
        #expect(try cli.run(["run", "weekly", "-q"]).status == 0)
        // Rows by entity and week, one by prediction id, times in both forms.
        try cli.write("good.csv", """
            entity_id,period,outcome,time
            0,6,1,2026-11-23
            1,6,0,2026-11-23T08:00:00Z
            2,6,true,1795400000000
            """)
        let good = try #require(try cli.json(["outcomes", "import", "good.csv"]) as? [String: Any])
        #expect(good["imported"] as? Int == 3 && good["positives"] as? Int == 2)
        #expect((good["by_version"] as? [String: Int]) == ["p/1": 3])
        try cli.write("bad.csv", """
            entity_id,period,outcome,time
            3,6,1,2026-11-23
            4,6,maybe,2026-11-23
            nobody,6,0,2026-11-23
            5,6,1,yesterday
            """)
        let bad = try cli.run(["outcomes", "import", "bad.csv"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("line 3: outcome 'maybe' is not 0/1 or true/false"))
        #expect(bad.stderr.contains("line 4: no prediction for entity 'nobody' in period 6"))
        #expect(bad.stderr.contains("line 5: time 'yesterday'"))
        #expect(bad.stderr.contains("nothing was imported"))
        // Line 2 was fine, but it was not imported either.
        let store = try cli.store()
        #expect(try store.read { try Int.fetchOne($0.db, sql: "SELECT COUNT(*) FROM outcomes") } == 3)
        let missing = try cli.run(["outcomes", "import", "nope.csv"])
        #expect(missing.status == 2 && missing.stderr.contains("cannot read nope.csv"))
    }
}

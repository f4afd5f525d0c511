import Foundation
import Testing

@Suite("mlops drift")
struct DriftCommandTests {
    @Test func reportsEachColumnAndTheShareDrifted() throws {
        let cli = try MLOpsBinary()
        defer { cli.remove() }
        let regions = ["north", "south", "east"]
        let reference = (0..<500).map { i in "\(i),\(Double(i % 100)),\(Double(i % 50)),\(regions[i % 3])" }
        // `x` moves up by 40; `y` and the regions stay put; `id` is left out.
        let current = (0..<500).map { i in "\(i),\(Double(i % 100) + 40),\(Double(i % 50)),\(regions[i % 3])" }
        try cli.write("a.csv", "id,x,y,region\n" + reference.joined(separator: "\n") + "\n")
        try cli.write("b.csv", "id,x,y,region,extra\n" + current.map { $0 + ",1" }.joined(separator: "\n") + "\n")
        let report = try #require(try cli.json(["drift", "--reference", "a.csv", "--current", "b.csv", "--exclude", "id"]) as? [String: Any])
        let columns = try #require(report["columns"] as? [[String: Any]])
        let verdicts = Dictionary(uniqueKeysWithValues: columns.map { ($0["column"] as! String, $0["drifted"] as! Bool) })
        #expect(verdicts == ["x": true, "y": false, "region": false])
        #expect(columns.first { $0["column"] as? String == "x" }?["test"] as? String == "ks")
        #expect(columns.first { $0["column"] as? String == "region" }?["test"] as? String == "chi_square")
        #expect(abs((report["share_drifted"] as? Double ?? 0) - 1.0 / 3) < 1e-9)
        #expect(report["skipped"] as? [String] == ["extra"])
        let text = try cli.run(["drift", "--reference", "a.csv", "--current", "b.csv", "--exclude", "id"]).stdout
        #expect(text.contains("1 of 3 columns drifted") && text.contains("not compared (in one table only): extra"))
        let missing = try cli.run(["drift", "--reference", "nope.csv", "--current", "b.csv"])
        #expect(missing.status == 2 && missing.stderr.contains("cannot read nope.csv"))
    }
}

import Foundation
import MLOpsCore
import Testing

/// The registry alone deletes versions and moves aliases, whichever door asks: the MLflow API, the
/// CLI or a stage. A version that is served or in a rollout in flight stays, with its files, and
/// the routing goes on as before.
@Suite("The registry's owner rules, through every door", .serialized)
struct RegistryOwnerTests {
    static let tamper = """
        version: 1
        jobs:
          tamper:
            stages:
              delete: { run: mlops models delete propensity/2 --reason "from a stage" }
        """

    @Test func aServedOrInFlightVersionCannotBeDeletedOrReAliasedFromAnyDoor() async throws {
        // v1 champion, v2 the candidate of a canary paused at 50%.
        let server = try ServerTests().start()
        defer { server.process.process.terminate(); _ = server.process.wait(); server.cli.remove() }
        let cli = server.cli

        // The MLflow API.
        let api = "/api/2.0/mlflow/"
        let deleteCandidate = try await server.request("DELETE", api + "model-versions/delete", #"{"name":"propensity","version":"2"}"#)
        #expect(deleteCandidate.status == 400)
        #expect((deleteCandidate.json["message"] as? String)?.contains("candidate of rollout") == true, "\(deleteCandidate.json)")
        let deleteChampion = try await server.request("DELETE", api + "model-versions/delete", #"{"name":"propensity","version":"1"}"#)
        #expect(deleteChampion.status == 400 && (deleteChampion.json["message"] as? String)?.contains("stable version of rollout") == true)
        #expect(try await server.request("POST", api + "registered-models/alias", #"{"name":"propensity","alias":"champion","version":"2"}"#).status == 400)
        #expect(try await server.request("DELETE", api + "registered-models/alias", #"{"name":"propensity","alias":"challenger"}"#).status == 400)
        #expect(try await server.request("DELETE", api + "registered-models/delete", #"{"name":"propensity"}"#).status == 400)
        #expect(try await server.request("POST", api + "registered-models/rename", #"{"name":"propensity","new_name":"other"}"#).status == 400)
        // A user's own alias is still theirs.
        #expect(try await server.request("POST", api + "registered-models/alias", #"{"name":"propensity","alias":"staging","version":"2"}"#).status == 200)

        // The CLI.
        let cliDelete = try cli.run(["models", "delete", "propensity/2"])
        #expect(cliDelete.status != 0 && cliDelete.stderr.contains("candidate of rollout") && cliDelete.stderr.contains("mlops abort propensity"), "\(cliDelete.stderr)")
        #expect(try cli.run(["models", "delete", "propensity"]).status != 0)
        #expect(try cli.run(["models", "alias", "propensity", "champion", "2"]).status != 0)
        #expect(try cli.run(["models", "unalias", "propensity", "champion"]).status != 0)

        // A stage.
        try cli.write("tamper.yaml", Self.tamper)
        #expect(try cli.run(["run", "tamper", "-f", "tamper.yaml", "-q"]).status == 1)
        let runs = try #require(try cli.json(["runs"]) as? [[String: Any]])
        let tamperRun = try #require(runs.first { $0["job"] as? String == "tamper" }?["run_id"] as? String, "\(runs)")
        let stageLog = try cli.run(["runs", "logs", tamperRun, "--stage", "delete"])
        #expect(stageLog.stderr.contains("delete | error: cannot delete propensity/2: it is the candidate of rollout"), "\(stageLog)")

        // Afterwards: the rollout, the aliases, the files and the routing are as they were.
        let rollout = try #require(try cli.json(["rollouts", "show", "propensity"]) as? [String: Any])
        #expect(rollout["state"] as? String == "paused" && rollout["weight"] as? Int == 50)
        let models = try #require(try cli.json(["models"]) as? [[String: Any]])
        #expect(models.first?["aliases"] as? [String: Int] == ["champion": 1, "challenger": 2, "staging": 2])
        let store = try cli.store()
        let registry = ModelRegistry(store: store, directory: "\(cli.root)/registry")
        for v in [1, 2] { try registry.verify(try registry.version("propensity", v)) }
        var served: Set<Int> = []
        for i in 0..<60 {
            let answer = try await server.predict("owner-\(i)")
            #expect(answer.status == 200)
            if let v = answer.json["version"] as? Int { served.insert(v) }
        }
        #expect(served == [1, 2])

        // Once the rollout is aborted, the candidate can go, through the API, audited.
        #expect(try cli.run(["abort", "propensity"]).status == 0)
        #expect(try await server.request("DELETE", api + "model-versions/delete", #"{"name":"propensity","version":"2"}"#).status == 200)
        #expect(!FileManager.default.fileExists(atPath: "\(cli.root)/registry/propensity/2"))
        let audit = try AuditLog.entries(in: store, entityType: "model_version", entityID: "propensity/2")
        #expect(audit.last?.action == "delete" && audit.last?.detail == "deleted through the MLflow API")
    }
}

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MLOpsCore
import Testing

/// `mlops serve` over real HTTP on 127.0.0.1, against a workspace whose model has a canary.
@Suite("The model server, end to end", .serialized)
struct ServerTests {
    static let spec = """
        version: 1
        jobs:
          weekly:
            params: { week: 8 }
            stages:
              ingest: { uses: synthetic-cohort, with: { customers: 800, week: "${params.week}", history_weeks: 3 } }
              train: { needs: [ingest], uses: logistic-regression }
              deploy:
                needs: [train]
                uses: deploy
                with: { model: propensity, strategy: canary, steps: [ { set_weight: 50 }, { pause: {} } ] }
        """

    static let row = #"{"age":40,"income":30000,"tenure_months":20,"products":2,"days_since_purchase":10,"web_visits":3,"channel":"web","region":"north"}"#

    struct Server {
        let cli: MLOpsBinary
        let process: MLOpsBinary.Running
        let base: String

        func request(_ method: String, _ path: String, _ body: String? = nil) async throws -> (status: Int, json: [String: Any]) {
            var request = URLRequest(url: URL(string: base + path)!)
            request.httpMethod = method
            request.httpBody = body.map { Data($0.utf8) }
            let (data, response) = try await URLSession.shared.data(for: request)
            let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? ["text": String(decoding: data, as: UTF8.self)]
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, json)
        }

        func predict(_ entity: String) async throws -> (status: Int, json: [String: Any]) {
            try await request("POST", "/v1/models/propensity/predict", #"{"entity_id":"\#(entity)","features":\#(ServerTests.row)}"#)
        }
    }

    /// v1 champion, v2 in a canary at 50%, paused; the server started on a free port.
    func start(extra: [String] = []) throws -> Server {
        let cli = try MLOpsBinary(Self.spec)
        #expect(try cli.run(["run", "weekly", "-q"]).status == 0)
        #expect(try cli.run(["run", "weekly", "--param", "week=9", "-q"]).status == 0)
        let process = try cli.start(["serve", "--port", "0", "--refresh-ms", "50"] + extra)
        let port = process.announcedPort()
        #expect(port > 0, "the server did not start: \(process.stderrSoFar())")
        return Server(cli: cli, process: process, base: "http://127.0.0.1:\(port)")
    }

    @Test func predictsRoutesStickilyAndRecordsEveryPrediction() async throws {
        let server = try start()
        defer { server.cli.remove() }
        #expect(try await server.request("GET", "/health").status == 200)
        #expect(try await server.request("GET", "/ready").status == 200)
        var versions: [String: Int] = [:]
        for i in 0..<120 {
            let answer = try await server.predict("customer-\(i)")
            #expect(answer.status == 200)
            versions["customer-\(i)"] = answer.json["version"] as? Int
            let score = try #require(answer.json["score"] as? Double)
            #expect(score > 0 && score < 1)
        }
        #expect(Set(versions.values) == [1, 2])
        // The same customer lands on the same version every time.
        for i in 0..<20 {
            #expect(try await server.predict("customer-\(i)").json["version"] as? Int == versions["customer-\(i)"])
        }
        let batch = try await server.request("POST", "/v1/models/propensity/predict",
                                             #"{"instances":[{"entity_id":"a","features":\#(Self.row)},{"entity_id":"b","features":\#(Self.row)}]}"#)
        #expect((batch.json["predictions"] as? [Any])?.count == 2)
        // Feedback attaches to the prediction, by id or by entity.
        let id = try #require(try await server.predict("customer-1").json["prediction_id"] as? Int)
        #expect(try await server.request("POST", "/v1/feedback", #"{"prediction_id":\#(id),"label":1}"#).status == 200)
        #expect(try await server.request("POST", "/v1/feedback", #"{"entity_id":"customer-2","model":"propensity","label":false}"#).status == 200)
        #expect(try await server.request("POST", "/v1/feedback", #"{"prediction_id":999999999,"label":1}"#).status == 404)
        let model = try await server.request("GET", "/v1/models/propensity")
        #expect((model.json["routing"] as? [String: Any])?["weight"] as? Int == 50)
        #expect((model.json["rollout"] as? [String: Any])?["state"] as? String == "paused")
        let metrics = try await server.request("GET", "/metrics")
        #expect((metrics.json["text"] as? String)?.contains(#"mlops_predictions_total{model="propensity",version="2"}"#) == true)
        // A graceful stop writes every buffered prediction.
        kill(server.process.pid, SIGTERM)
        #expect(server.process.wait().status == 0)
        let store = try server.cli.store()
        #expect(try store.read { try Int.fetchOne($0.db, sql: "SELECT COUNT(*) FROM predictions WHERE run_uuid = 'serve'") } == 143)
        #expect(try store.read { try Int.fetchOne($0.db, sql: "SELECT COUNT(*) FROM outcomes") } == 2)
    }

    @Test func badRequestsGetJSONErrorsThatSayWhat() async throws {
        let server = try start(extra: ["--max-body-bytes", "2000"])
        defer {
            kill(server.process.pid, SIGTERM)
            _ = server.process.wait()
            server.cli.remove()
        }
        let malformed = try await server.request("POST", "/v1/models/propensity/predict", #"{"features": "#)
        #expect(malformed.status == 400 && (malformed.json["error"] as? String)?.contains("not valid JSON") == true)
        let missing = try await server.request("POST", "/v1/models/propensity/predict", #"{"features":{"age":40}}"#)
        #expect(missing.status == 422)
        let wrongType = try await server.request("POST", "/v1/models/propensity/predict",
                                                 #"{"features":\#(Self.row.replacingOccurrences(of: #""age":40"#, with: #""age":"forty""#))}"#)
        #expect(wrongType.status == 422 && wrongType.json["field"] as? String == "features.age")
        #expect((wrongType.json["error"] as? String) == "expected a number, found a string")
        let unknown = try await server.request("POST", "/v1/models/propensty/predict", #"{"features":\#(Self.row)}"#)
        #expect(unknown.status == 404 && (unknown.json["error"] as? String)?.contains("did you mean 'propensity'?") == true)
        let big = try await server.request("POST", "/v1/models/propensity/predict", #"{"pad":"\#(String(repeating: "x", count: 5000))"}"#)
        #expect(big.status == 413)
        #expect(try await server.request("GET", "/nowhere").status == 404)
    }

    @Test func aRollbackUnderLoadFailsNoRequest() async throws {
        let server = try start()
        defer {
            kill(server.process.pid, SIGTERM)
            _ = server.process.wait()
            server.cli.remove()
        }
        let stop = Date().addingTimeInterval(2.5)
        async let load: [Int] = withThrowingTaskGroup(of: [Int].self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var statuses: [Int] = []
                    var i = 0
                    while Date() < stop {
                        statuses.append(try await server.predict("w\(worker)-\(i % 50)").status)
                        i += 1
                    }
                    return statuses
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        try await Task.sleep(for: .milliseconds(800))
        let rollback = try server.cli.run(["rollback", "propensity", "--reason", "under load"])
        #expect(rollback.status == 0, "\(rollback.stderr)")
        let statuses = try await load
        #expect(statuses.count > 100)
        #expect(statuses.allSatisfy { $0 == 200 }, "\(Dictionary(grouping: statuses) { $0 }.mapValues(\.count))")
        // After the switch every answer comes from v1.
        for i in 0..<30 { #expect(try await server.predict("after-\(i)").json["version"] as? Int == 1) }
    }

    /// An answered prediction is a recorded one: killed with SIGKILL right after its last answer,
    /// the server has every prediction it acknowledged in the store (they used to wait up to 50 ms
    /// in a buffer, and a kill lost them).
    @Test func everyAcknowledgedPredictionSurvivesAKill() async throws {
        let server = try start()
        defer { server.cli.remove() }
        var acknowledged: [Int64: String] = [:]
        try await withThrowingTaskGroup(of: [(Int64, String)].self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var ids: [(Int64, String)] = []
                    for i in 0..<60 {
                        let entity = "k\(worker)-\(i)"
                        let answer = try await server.predict(entity)
                        if let id = answer.json["prediction_id"] as? Int { ids.append((Int64(id), entity)) }
                    }
                    return ids
                }
            }
            for try await ids in group { for (id, entity) in ids { acknowledged[id] = entity } }
        }
        kill(server.process.pid, SIGKILL)
        _ = server.process.wait()
        #expect(acknowledged.count == 240)
        let recorded = try Self.servedPredictions(in: server.cli)
        let missing = acknowledged.filter { recorded[$0.key] != $0.value }
        #expect(missing.isEmpty, "\(missing.count) of \(acknowledged.count) acknowledged predictions are not in the store")
    }

    static func servedPredictions(in cli: MLOpsBinary) throws -> [Int64: String] {
        let store = try cli.store()
        return try store.read { tx in
            let db = tx.db
            return try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT id, entity_id FROM predictions WHERE run_uuid = 'serve'")
                .map { (($0["id"] as Int64), ($0["entity_id"] as String)) })
        }
    }
}

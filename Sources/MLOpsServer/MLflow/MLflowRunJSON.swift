import Foundation
import GRDB
import MLOpsCore

/// Runs as MLflow's JSON (`Run`: info, data, inputs, outputs), written straight to bytes. A search
/// answers with up to a thousand runs, and building dictionaries for JSONWriter to walk was most of
/// its time. Each table is read once for all the runs of a page.
extension MLflowService {
    func runJSON(_ db: Database, _ run: RunRecord) throws -> RawJSON {
        var out = try runsJSON(db, [run]).bytes
        // One run, not a list of one.
        out.removeFirst()
        out.removeLast()
        return RawJSON(bytes: out)
    }

    func runsJSON(_ db: Database, _ runs: [RunRecord]) throws -> RawJSON {
        let ids = runs.map(\.id)
        let marks = ids.map { _ in "?" }.joined(separator: ",")
        func grouped(_ sql: String) throws -> [String: [Row]] {
            guard !ids.isEmpty else { return [:] }
            return Dictionary(grouping: try Row.fetchAll(db, sql: sql, arguments: StatementArguments(ids)), by: { $0["run_uuid"] as String })
        }
        let metrics = try grouped("SELECT run_uuid, key, value, timestamp, step, is_nan FROM latest_metrics WHERE run_uuid IN (\(marks)) ORDER BY key")
        let params = try grouped("SELECT run_uuid, key, value FROM params WHERE run_uuid IN (\(marks)) ORDER BY key")
        let tags = try grouped("SELECT run_uuid, key, value FROM tags WHERE run_uuid IN (\(marks)) ORDER BY key")
        let inputs = try grouped("SELECT run_uuid, kind, body FROM run_inputs WHERE run_uuid IN (\(marks)) ORDER BY rowid")
        let outputs = try grouped("SELECT run_uuid, model_id, step FROM run_outputs WHERE run_uuid IN (\(marks)) ORDER BY rowid")

        var json = JSONBytes()
        json.array(runs) { json, run in
            json.object { json in
                json.member("data") { json in
                    json.object { json in
                        json.member("metrics") { json in
                            json.array(metrics[run.id] ?? []) { json, row in
                                let point = MetricPoint(row: row)
                                json.object { json in
                                    json.member("key", point.key)
                                    json.member("step", point.step)
                                    json.member("timestamp", point.timestamp)
                                    json.member("value") { json in JSONWriter.append(MLflowEntities.number(point.value), to: &json.bytes) }
                                }
                            }
                        }
                        json.member("params") { json in json.keyValues(params[run.id] ?? []) }
                        json.member("tags") { json in json.keyValues(tags[run.id] ?? []) }
                    }
                }
                json.member("info") { json in
                    json.object { json in
                        json.member("artifact_uri", run.artifactURI)
                        json.member("end_time", run.endTime)
                        json.member("experiment_id", String(run.experimentID))
                        json.member("lifecycle_stage", run.lifecycleStage)
                        json.member("run_id", run.id)
                        json.member("run_name", run.name)
                        json.member("run_uuid", run.id)
                        json.member("start_time", run.startTime)
                        json.member("status", run.status.rawValue)
                        json.member("user_id", run.userID)
                    }
                }
                let runInputs = inputs[run.id] ?? []
                json.member("inputs") { json in
                    json.object { json in
                        // Stored as the client sent them, as JSON text.
                        for kind in ["dataset", "model"] {
                            json.member(kind == "dataset" ? "dataset_inputs" : "model_inputs") { json in
                                json.array(runInputs.filter { $0["kind"] as String == kind }) { json, row in json.bytes += Array((row["body"] as String).utf8) }
                            }
                        }
                    }
                }
                json.member("outputs") { json in
                    json.object { json in
                        json.member("model_outputs") { json in
                            json.array(outputs[run.id] ?? []) { json, row in
                                json.object { json in
                                    json.member("model_id", row["model_id"] as String)
                                    json.member("step", row["step"] as Int64)
                                }
                            }
                        }
                    }
                }
            }
        }
        return RawJSON(bytes: json.bytes)
    }
}

/// JSON written member by member, for the shapes worth writing by hand. Nil members are left out,
/// as MLflow's protobuf JSON leaves out unset fields.
struct JSONBytes {
    var bytes: [UInt8] = []
    private var needsComma = false

    mutating func object(_ body: (inout JSONBytes) -> Void) {
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
        body(&self)
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    mutating func array<Element>(_ elements: [Element], _ body: (inout JSONBytes, Element) -> Void) {
        bytes.append(UInt8(ascii: "["))
        for (i, element) in elements.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            body(&self, element)
        }
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    mutating func member(_ key: String, _ value: (inout JSONBytes) -> Void) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        JSONWriter.append(string: key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        value(&self)
        needsComma = true
    }

    mutating func member(_ key: String, _ value: String?) {
        guard let value else { return }
        member(key) { json in JSONWriter.append(string: value, to: &json.bytes) }
    }

    mutating func member(_ key: String, _ value: Int64?) {
        guard let value else { return }
        member(key) { json in json.bytes += Array(String(value).utf8) }
    }

    /// `key`, `value` rows (params, tags) as MLflow's key-value messages; a NULL value is empty.
    mutating func keyValues(_ rows: [Row]) {
        array(rows) { json, row in
            json.object { json in
                json.member("key", row["key"] as String)
                json.member("value", (row["value"] as String?) ?? "")
            }
        }
    }
}

/// JSON already written, placed as it is inside a response.
struct RawJSON {
    var bytes: [UInt8]
}

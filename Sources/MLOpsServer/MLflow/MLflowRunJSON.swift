import Foundation
import MLOpsCore

/// Runs as MLflow's JSON (`Run`: info, data, inputs, outputs), written straight to bytes. A search
/// answers with up to a thousand runs, and building dictionaries for JSONWriter to walk was most of
/// its time. Each table is read once for all the runs of a page.
extension MLflowService {
    func runJSON(_ tx: StoreTransaction, _ run: RunRecord) throws -> RawJSON {
        var out = try runsJSON(tx, [run]).bytes
        // One run, not a list of one.
        out.removeFirst()
        out.removeLast()
        return RawJSON(bytes: out)
    }

    func runsJSON(_ tx: StoreTransaction, _ runs: [RunRecord]) throws -> RawJSON {
        let details = try Tracker.details(tx, runs.map(\.id))
        var json = JSONBytes()
        json.array(runs) { json, run in
            let detail = details[run.id] ?? RunDetails()
            json.object { json in
                json.member("data") { json in
                    json.object { json in
                        json.member("metrics") { json in
                            json.array(detail.metrics) { json, point in
                                json.object { json in
                                    json.member("key", point.key)
                                    json.member("step", point.step)
                                    json.member("timestamp", point.timestamp)
                                    json.member("value") { json in JSONWriter.append(MLflowEntities.number(point.value), to: &json.bytes) }
                                }
                            }
                        }
                        json.member("params") { json in json.keyValues(detail.params) }
                        json.member("tags") { json in json.keyValues(detail.tags) }
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
                json.member("inputs") { json in
                    json.object { json in
                        // Stored as the client sent them, as JSON text.
                        for kind in ["dataset", "model"] {
                            json.member(kind == "dataset" ? "dataset_inputs" : "model_inputs") { json in
                                json.array(detail.inputs.filter { $0.kind == kind }) { json, input in json.bytes += Array(input.json.utf8) }
                            }
                        }
                    }
                }
                json.member("outputs") { json in
                    json.object { json in
                        json.member("model_outputs") { json in
                            json.array(detail.outputs) { json, output in
                                json.object { json in
                                    json.member("model_id", output.modelID)
                                    json.member("step", output.step)
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

    /// Params or tags as MLflow's key-value messages.
    mutating func keyValues(_ pairs: KeyValues) {
        array(pairs) { json, pair in
            json.object { json in
                json.member("key", pair.key)
                json.member("value", pair.value)
            }
        }
    }
}

/// JSON already written, placed as it is inside a response.
struct RawJSON {
    var bytes: [UInt8]
}

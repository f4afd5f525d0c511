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
                        json.member("artifact_uri", run.clientArtifactURI)
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

extension JSONBytes {
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

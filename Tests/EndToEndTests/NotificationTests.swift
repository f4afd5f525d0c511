import Foundation
import MLOpsCore
import Testing

/// Notifications to a real HTTP receiver on 127.0.0.1 (a small Python server) and to a command.
@Suite("Notifications: webhooks and commands, retried, audited, never failing the pipeline", .serialized)
struct NotificationTests {
    /// Answers 500 to the first `failFirst` POSTs, then 200; appends every body to a file.
    static let receiver = #"""
        import http.server, sys
        fail_first = int(sys.argv[2]); seen = [0]
        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers['Content-Length']))
                seen[0] += 1
                with open(sys.argv[3], 'ab') as f: f.write(body + b'\n')
                self.send_response(500 if seen[0] <= fail_first else 200); self.end_headers()
            def log_message(self, *a): pass
        s = http.server.HTTPServer(('127.0.0.1', 0), H)
        print(s.server_address[1], flush=True)
        s.serve_forever()
        """#

    final class Receiver {
        let process = Process()
        let port: Int
        let log: String

        init(in root: String, failFirst: Int = 0) throws {
            log = root + "/received.jsonl"
            try NotificationTests.receiver.write(toFile: root + "/receiver.py", atomically: true, encoding: .utf8)
            let out = Pipe()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", root + "/receiver.py", "0", String(failFirst), log]
            process.standardOutput = out
            try process.run()
            let line = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
            port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }

        var events: [[String: Any]] {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
                .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }

        func stop() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    func spec(webhook: String, minAUC: Double = 0.5) -> String {
        """
        version: 1
        notify:
          - webhook: \(webhook)
          - command: "cat >> notified.jsonl; echo >> notified.jsonl"
            events: [rollout_started, rollout_promoted]
        jobs:
          weekly:
            stages:
              ingest: { uses: synthetic-cohort, with: { customers: 600, week: 6, history_weeks: 2 } }
              train: { needs: [ingest], uses: logistic-regression }
              evaluate: { needs: [train], uses: evaluate, with: { top_k: 50, champion: p } }
              gate: { needs: [evaluate], uses: gate, with: { rules: [ { metric: auc, min: \(minAUC) } ] } }
              deploy: { needs: [gate], uses: deploy, with: { model: p } }
        """
    }

    func outbox(_ cli: MLOpsBinary) throws -> [(event: String, state: String, attempts: Int)] {
        let store = try cli.store()
        return try store.read { tx in
            let db = tx.db
            return try Row.fetchAll(db, sql: "SELECT event, state, attempts FROM notifications ORDER BY id").map { ($0["event"] as String, $0["state"] as String, $0["attempts"] as Int) }
        }
    }

    @Test func aFailedGateIsAnnouncedToWebhooks() throws {
        let cli = try MLOpsBinary()
        defer { cli.remove() }
        let receiver = try Receiver(in: cli.root)
        defer { receiver.stop() }
        try cli.write("jobs.yaml", spec(webhook: "http://127.0.0.1:\(receiver.port)/hook", minAUC: 0.99))
        let run = try cli.run(["run", "weekly", "-q"])
        #expect(run.status == 1)
        let events = receiver.events
        #expect(events.compactMap { $0["event"] as? String }.sorted() == ["gate_failed", "run_failed"])
        let gate = try #require(events.first { $0["event"] as? String == "gate_failed" })
        #expect((gate["summary"] as? String)?.contains("gate failed: auc") == true)
        #expect(gate["job"] as? String == "weekly")
        #expect(try outbox(cli).map(\.state) == ["delivered", "delivered"])
    }

    @Test func rolloutsAreAnnouncedToCommandsAndAFailedDeliveryIsRetried() throws {
        let cli = try MLOpsBinary()
        defer { cli.remove() }
        let receiver = try Receiver(in: cli.root, failFirst: 1)
        defer { receiver.stop() }
        try cli.write("jobs.yaml", spec(webhook: "http://127.0.0.1:\(receiver.port)/hook"))
        #expect(try cli.run(["run", "weekly", "-q"]).status == 0)
        let commandEvents = try cli.read("notified.jsonl").split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(commandEvents.compactMap { $0["event"] as? String } == ["rollout_started", "rollout_promoted"])
        // The webhook refused the first POST; the retry a second later got through.
        #expect(receiver.events.count == 3)
        #expect(try outbox(cli).map(\.state) == ["delivered", "delivered"])
        #expect(try outbox(cli).first?.attempts == 2)
        let store = try cli.store()
        let audit = try store.read { try String.fetchAll($0.db, sql: "SELECT to_state FROM audit_log WHERE entity_type = 'notification' ORDER BY id") }
        #expect(audit.filter { $0 == "failed" }.count == 1 && audit.filter { $0 == "delivered" }.count == 4)
    }

    @Test func anUnreachableReceiverNeverFailsTheRun() throws {
        let cli = try MLOpsBinary()
        defer { cli.remove() }
        try cli.write("jobs.yaml", spec(webhook: "http://127.0.0.1:9/nobody-listens"))
        let run = try cli.run(["run", "weekly", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        let rows = try outbox(cli)
        #expect(rows.map(\.event) == ["rollout_started", "rollout_promoted"])
        // The command target got them; the webhook's share waits for a later process.
        #expect(rows.allSatisfy { $0.state == "pending" && $0.attempts >= 1 })
    }
}

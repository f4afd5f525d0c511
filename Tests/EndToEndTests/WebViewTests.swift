import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// The web view, served by the built binary on a real workspace: the runs table with its filter,
/// columns and pages, a run with its stages, params, metrics and log, the log's follow endpoint,
/// escaping against a run named `<script>`, and the same pages under `/ui` of `mlops serve`.
/// Then a real browser (Debian's chromium, headless) renders the runs page.
@Suite("The web view", .serialized)
struct WebViewTests {
    static let spec = """
        version: 1
        jobs:
          j:
            params: { l2: 0.1 }
            stages:
              prep: { shell: true, run: 'echo preparing; mlops log metric rows 120' }
              train: { needs: [prep], shell: true, run: 'for i in 1 2 3; do mlops log metric auc 0.$((6 + i)) --step $i; done; echo trained' }
        """

    struct Page {
        var status: Int
        var text: String
    }

    static func get(_ url: String) async throws -> Page {
        let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
        return Page(status: (response as? HTTPURLResponse)?.statusCode ?? 0, text: String(decoding: data, as: UTF8.self))
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    /// A workspace with three runs of `j` and an MLflow client run named `<script>`, its server on a free port.
    func served() throws -> (MLOpsBinary, MLOpsBinary.Running, String) {
        let cli = try MLOpsBinary(Self.spec)
        for l2 in ["0.1", "0.2", "0.3"] { #expect(try cli.run(["run", "j", "-q", "--param", "l2=\(l2)"]).status == 0) }
        let server = try cli.start(["server", "--port", "0"])
        let port = server.announcedPort()
        #expect(port > 0, "\(server.stderrSoFar())")
        return (cli, server, "http://127.0.0.1:\(port)")
    }

    @Test func theRunsTableFiltersPagesAndSaysWhatIsWrongWithAFilter() async throws {
        let (cli, server, base) = try served()
        defer { kill(server.pid, SIGTERM); _ = server.wait(); cli.remove() }
        let all = try await Self.get(base + "/")
        #expect(all.status == 200)
        #expect(all.text.components(separatedBy: "name=\"run\" value=\"").count - 1 == 3)
        let narrowed = try await Self.get(base + "/runs?filter=" + Self.escape("params.l2 = '0.2'") + "&cols=" + Self.escape("metrics.auc,params.l2"))
        #expect(narrowed.text.components(separatedBy: "name=\"run\" value=\"").count - 1 == 1)
        #expect(narrowed.text.contains("<th>metrics.auc</th><th>params.l2</th>"))
        #expect(narrowed.text.contains("<td class=\"num\">0.2</td>"))
        let bad = try await Self.get(base + "/runs?filter=" + Self.escape("metrics.auc >> 1"))
        #expect(bad.status == 200)
        #expect(bad.text.contains("id=\"filter-error\""))
        #expect(bad.text.contains("invalid filter at column"))
        #expect(bad.text.contains("^"))
        // Pages of one: a cursor in the link, three pages, then no next.
        var url: String? = "/runs?order_by=" + Self.escape("params.l2 DESC") + "&limit=1"
        var seen: [String] = []
        while let next = url, seen.count < 10 {
            let page = try await Self.get(base + next.replacingOccurrences(of: "&amp;", with: "&"))
            seen += page.text.components(separatedBy: "name=\"run\" value=\"").dropFirst().map { String($0.prefix(32)) }
            url = page.text.range(of: "href=\"(/runs\\?[^\"]*after=[^\"]*)\" id=\"next\"", options: .regularExpression)
                .map { String(page.text[$0].dropFirst(6).prefix { $0 != "\"" }) }
        }
        #expect(seen.count == 3 && Set(seen).count == 3)
    }

    @Test func aRunShowsItsStagesParamsMetricsAndLogAndEscapesWhatUsersWrote() async throws {
        let (cli, server, base) = try served()
        defer { kill(server.pid, SIGTERM); _ = server.wait(); cli.remove() }
        let runs = try #require(try cli.json(["runs"]) as? [[String: Any]])
        let jobRun = try #require(runs.first?["run_id"] as? String)
        let page = try await Self.get(base + "/runs/" + jobRun)
        #expect(page.status == 200)
        #expect(page.text.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""), "the stage DAG")
        #expect(page.text.contains(">prep</text>") && page.text.contains(">train</text>"))
        #expect(page.text.contains("<td>l2</td>"))
        #expect(page.text.contains("<td>auc</td>"))
        let stages = try #require(try cli.json(["runs", "--kind", "stage"]) as? [[String: Any]])
        let train = try #require(stages.first { $0["stage"] as? String == "train" && $0["parent_run_id"] as? String == jobRun }?["run_id"] as? String)
        let stagePage = try await Self.get(base + "/runs/" + train)
        #expect(stagePage.text.contains("trained"), "the stage's log")
        #expect(stagePage.text.contains("<polyline"), "auc's chart over its three steps")
        #expect(stagePage.text.contains("data-live=\"false\""), "an ended run's log is not followed")
        let csv = try await Self.get(base + "/runs/\(train)/metrics/auc.csv")
        #expect(csv.text.split(separator: "\n").prefix(4).map { $0.split(separator: ",").prefix(2).joined(separator: ",") }
                == ["step,value", "1,0.7", "2,0.8", "3,0.9"])
        let log = try await Self.get(base + "/runs/\(train)/log?offset=0")
        #expect(log.text.contains("\"text\":\"trained\\n\""))
        #expect(try await Self.get(base + "/runs/nosuchrun").status == 404)

        // A run an MLflow client named <script>, in the table of client runs.
        let create = #"{"experiment_id":"0","run_name":"<script>alert(1)</script>"}"#
        var request = URLRequest(url: URL(string: base + "/api/2.0/mlflow/runs/create")!)
        request.httpMethod = "POST"
        request.httpBody = Data(create.utf8)
        _ = try await URLSession.shared.data(for: request)
        let clientRuns = try await Self.get(base + "/runs?kind=run")
        #expect(clientRuns.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!clientRuns.text.contains("<script>alert(1)"))
    }

    @Test func runsAreComparedSideBySide() async throws {
        let (cli, server, base) = try served()
        defer { kill(server.pid, SIGTERM); _ = server.wait(); cli.remove() }
        let stages = try #require(try cli.json(["runs", "--kind", "stage"]) as? [[String: Any]])
        let trains = stages.filter { $0["stage"] as? String == "train" }.compactMap { $0["run_id"] as? String }
        let jobs = try #require(try cli.json(["runs"]) as? [[String: Any]]).compactMap { $0["run_id"] as? String }
        let page = try await Self.get(base + "/compare?" + trains.map { "run=\($0)" }.joined(separator: "&"))
        #expect(page.status == 200)
        #expect(page.text.contains("Compare 3 runs"))
        #expect(page.text.contains("aria-label=\"auc by run\""), "auc's histories overlaid")
        #expect(page.text.components(separatedBy: "<polyline").count - 1 >= 3)
        let byJob = try await Self.get(base + "/compare?" + jobs.map { "run=\($0)" }.joined(separator: "&"))
        #expect(byJob.text.contains("aria-label=\"parallel coordinates\""), "l2 to the metrics")
        #expect(byJob.text.contains("<td>params.l2</td><td class=\"num\">"))
        #expect(try await Self.get(base + "/compare?run=nosuch").status == 404)
    }

    @Test func modelsShowTheirAliasesGatesChecksumsAndAliasHistory() async throws {
        let cli = try MLOpsBinary("""
            version: 1
            jobs:
              weekly:
                params: { week: 6 }
                stages:
                  ingest: { uses: synthetic-cohort, with: { customers: 600, week: "${params.week}", history_weeks: 2 } }
                  train: { needs: [ingest], uses: logistic-regression }
                  evaluate: { needs: [train], uses: evaluate }
                  gate: { needs: [evaluate], uses: gate, with: { rules: [ { metric: auc, min: 0.5 } ] } }
                  deploy: { needs: [gate], uses: deploy, with: { model: propensity, strategy: replace } }
            """)
        defer { cli.remove() }
        #expect(try cli.run(["run", "weekly", "-q"]).status == 0)
        #expect(try cli.run(["run", "weekly", "-q", "--param", "week=7"]).status == 0)
        let server = try cli.start(["server", "--port", "0"])
        defer { kill(server.pid, SIGTERM); _ = server.wait() }
        let base = "http://127.0.0.1:\(server.announcedPort())"
        let models = try await Self.get(base + "/models")
        #expect(models.text.contains("<a href=\"/models/propensity\">propensity</a>"))
        #expect(models.text.contains("@champion → 2"))
        let page = try await Self.get(base + "/models/propensity")
        #expect(page.status == 200)
        #expect(page.text.components(separatedBy: "<span class=\"alias\">@champion</span>").count == 2, "on version 2 only")
        #expect(page.text.contains("(min 0.5): pass"), "the gate's rules and results")
        #expect(page.text.contains("<table id=\"alias-history\">"))
        #expect(try await Self.get(base + "/models/nosuch").status == 404)
    }

    @Test func aRolloutShowsItsStepsWeightAndEvents() async throws {
        let cli = try MLOpsBinary(ServerTests.spec)
        defer { cli.remove() }
        #expect(try cli.run(["run", "weekly", "-q"]).status == 0)
        #expect(try cli.run(["run", "weekly", "--param", "week=9", "-q"]).status == 0)
        let rollouts = try #require(try cli.json(["rollouts"]) as? [[String: Any]])
        let id = try #require(rollouts.first?["id"] as? String)
        let server = try cli.start(["server", "--port", "0"])
        defer { kill(server.pid, SIGTERM); _ = server.wait() }
        let base = "http://127.0.0.1:\(server.announcedPort())"
        let list = try await Self.get(base + "/rollouts")
        #expect(list.text.contains("<a href=\"/rollouts/\(id)\">"))
        let page = try await Self.get(base + "/rollouts/\(id)")
        #expect(page.text.contains("<li>set weight 50%</li>"))
        #expect(page.text.contains("<li class=\"current\">pause until promoted ← now</li>"))
        #expect(page.text.contains("aria-label=\"weight over time\""))
        #expect(page.text.contains("<table id=\"events\">"))
        #expect(try await Self.get(base + "/rollouts/nosuch").status == 404)
    }

    @Test func aMonitorShowsItsEvaluationsAsCharts() async throws {
        let cli = try MLOpsBinary(MonitorCommandTests.spec)
        defer { cli.remove() }
        #expect(try cli.run(["run", "weekly", "-q"]).status == 0)
        #expect(try cli.run(["monitor", "--evaluate"]).status == 0)
        let server = try cli.start(["server", "--port", "0"])
        defer { kill(server.pid, SIGTERM); _ = server.wait() }
        let base = "http://127.0.0.1:\(server.announcedPort())"
        let list = try await Self.get(base + "/monitors")
        #expect(list.text.contains("<a href=\"/monitors/p-hit-rate\">p-hit-rate</a>"))
        let page = try await Self.get(base + "/monitors/p-hit-rate")
        #expect(page.status == 200)
        #expect(page.text.contains("1 evaluation shown"))
        #expect(page.text.contains("aria-label=\"hit rate, baseline\""))
        #expect(try await Self.get(base + "/monitors/p-hit-rte").status == 404)
    }

    @Test func jobsShowTheirSchedulesNextFiresAndTheOutbox() async throws {
        let cli = try MLOpsBinary("version: 1\njobs:\n  nightly:\n    schedule: \"30 2 * * *\"\n    timezone: Europe/Madrid\n    stages:\n      a: { run: \"true\" }\n")
        defer { cli.remove() }
        let server = try cli.start(["server", "--port", "0"])
        defer { kill(server.pid, SIGTERM); _ = server.wait() }
        let page = try await Self.get("http://127.0.0.1:\(server.announcedPort())/jobs")
        #expect(page.text.contains("<code>30 2 * * *</code>"))
        #expect(page.text.contains("Europe/Madrid"))
        #expect(page.text.components(separatedBy: " 02:30 ").count - 1 == 3, "the next three fires, in the job's zone")
        #expect(page.text.contains("Nothing waits to be delivered."))
    }

    @Test func theModelServerServesTheViewUnderUI() async throws {
        let cli = try MLOpsBinary(Self.spec)
        defer { cli.remove() }
        #expect(try cli.run(["run", "j", "-q"]).status == 0)
        let server = try cli.start(["serve", "--port", "0"])
        defer { kill(server.pid, SIGTERM); _ = server.wait() }
        let port = server.announcedPort()
        let page = try await Self.get("http://127.0.0.1:\(port)/ui/runs")
        #expect(page.status == 200)
        #expect(page.text.contains("<a href=\"/ui/runs/"))
        #expect(page.text.contains("action=\"/ui/compare\""))
    }

    /// Debian's chromium, headless: the page a browser builds has the table's rows.
    @Test func aRealBrowserRendersTheRunsPage() async throws {
        let browser = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let browser else {
            #expect(ProcessInfo.processInfo.environment["MLOPS_REQUIRE_CHROMIUM"]?.isEmpty ?? true, "MLOPS_REQUIRE_CHROMIUM is set but there is no chromium")
            print("SKIPPED: aRealBrowserRendersTheRunsPage needs Debian's chromium (apt-get install chromium)")
            return
        }
        let (cli, server, base) = try served()
        defer { kill(server.pid, SIGTERM); _ = server.wait(); cli.remove() }
        let dump = Process()
        dump.executableURL = URL(fileURLWithPath: browser)
        dump.arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(cli.root)/chromium", "--dump-dom", base + "/runs"]
        let out = Pipe()
        dump.standardOutput = out
        dump.standardError = FileHandle.nullDevice
        try dump.run()
        let dom = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        dump.waitUntilExit()
        #expect(dom.contains("<table id=\"runs\">"))
        #expect(dom.components(separatedBy: "name=\"run\" value=\"").count - 1 == 3)
    }
}

import Foundation
import MLOpsCore
import Testing

/// The store on a PostgreSQL server, as a team runs it: chosen by `--tracking`, MLOPS_TRACKING or
/// `tracking:`; a clear exit 2 when the server cannot be used; one migration however many
/// processes start on an empty database; SQLite's ordering and NaN on a database of another
/// collation. Needs a server (MLOPS_TEST_POSTGRES, `scripts/postgres start`): SKIPPED without one,
/// except under CI (MLOPS_REQUIRE_POSTGRES=1), where it must run.
@Suite("The PostgreSQL store")
struct PostgresStoreTests {
    /// The test server's URL, or nil (after saying SKIPPED) when there is none.
    static func server(_ test: String = #function) -> String? {
        if let url = ProcessInfo.processInfo.environment["MLOPS_TEST_POSTGRES"], !url.isEmpty { return url }
        #expect(ProcessInfo.processInfo.environment["MLOPS_REQUIRE_POSTGRES"]?.isEmpty ?? true, "MLOPS_REQUIRE_POSTGRES is set but MLOPS_TEST_POSTGRES is not")
        print("SKIPPED: \(test) needs a PostgreSQL server (eval \"$(scripts/postgres start)\")")
        return nil
    }

    static let job = "version: 1\njobs:\n  j:\n    stages:\n      a: { shell: true, run: 'mlops log metric m 1' }\n"

    @Test func aServerThatCannotBeUsedIsAClearExitTwoAndNothingIsWritten() throws {
        guard let server = Self.server() else { return }
        let cli = try MLOpsBinary(Self.job)
        defer { cli.remove() }
        let port = server.split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) } ?? 5432
        let cases = [
            ("postgresql://postgres@127.0.0.1:1/x", "Connection refused"),
            ("postgresql://nobody:secret@127.0.0.1:\(port)/postgres", "role \"nobody\" does not exist"),
            ("postgresql://postgres@127.0.0.1:\(port)/no_such_database", "database \"no_such_database\" does not exist"),
        ]
        for (url, said) in cases {
            for arguments in [["runs"], ["run", "j"]] {
                let out = try cli.run(arguments + ["--tracking", url])
                #expect(out.status == 2, "\(arguments) \(url): \(out.stderr)")
                #expect(out.stderr.hasPrefix("error: cannot use the PostgreSQL store at ") && out.stderr.contains(said), "\(out.stderr)")
                #expect(!out.stderr.contains("secret") && !out.stderr.contains("Fatal error"), "\(out.stderr)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: cli.root + "/experiments"), "a run that could not reach its store left files")
    }

    @Test func processesStartingOnAnEmptyDatabaseMigrateItOnce() throws {
        guard Self.server() != nil, let url = try PostgresAdmin.testDatabase() else { return }
        let cli = try MLOpsBinary(Self.job)
        defer { cli.remove() }
        let started = try (0..<6).map { _ in try cli.start(["runs", "--json"], environment: ["MLOPS_TRACKING": url]) }
        for process in started {
            let out = process.wait()
            #expect(out.status == 0, "\(out.stderr)")
        }
        let store = try Store(path: url)
        #expect(try store.read { try Int.fetchOne($0.db, sql: "SELECT COUNT(*) FROM mlops_migrations") } == Migration.all.count)
        #expect(try store.read { try Int.fetchOne($0.db, sql: "SELECT COUNT(*) FROM experiments WHERE name = 'Default'") } == 1)
    }

    /// Run names as a team types them, whose order differs between the C collation and a
    /// language's: SQLite compares bytes, so must PostgreSQL, whatever the database's collation.
    static let names = ["beta", "Beta", "alpha", "Alpha", "_x", "a-b", "ab", "Zeta", "é"]

    /// The names in order, those `LIKE 'a%'` (case-sensitive, as MLflow's) and those `ILIKE 'a%'`.
    func searched(_ store: Store) throws -> [[String]] {
        let tracker = Tracker(store: store)
        let experiment = try tracker.experimentID(named: "names")
        for name in Self.names { try tracker.create(RunRecord(experimentID: experiment, name: name, status: .finished, startTime: 1, kind: .run)) }
        return try [nil, "attributes.run_name LIKE 'a%'", "attributes.run_name ILIKE 'a%'"].map { filter in
            var search = RunSearch(kind: .run, filter: try filter.map { try RunFilter(parsing: $0) },
                                   orderBy: try RunSearch.OrderTerm.parseList("attributes.run_name ASC"), limit: 100)
            search.experimentIDs = [experiment]
            return try search.run(store).compactMap(\.name)
        }
    }

    @Test func aDatabaseOfAnotherCollationSortsAndMatchesAsSQLiteDoes() throws {
        guard let server = Self.server() else { return }
        let url = try PostgresAdmin.createDatabase(server: server, name: "mlops_icu_" + UUID().uuidString.prefix(8).lowercased(), icuLocale: "en-US")
        let folder = NSTemporaryDirectory() + "mlops-collation-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let onSQLite = try searched(try Store(path: folder + "/mlops.sqlite"))
        let onPostgres = try searched(try Store(path: url))
        #expect(onSQLite == [["Alpha", "Beta", "Zeta", "_x", "a-b", "ab", "alpha", "beta", "é"], ["a-b", "ab", "alpha"], ["Alpha", "a-b", "ab", "alpha"]],
                "\(onSQLite)")
        #expect(onPostgres == onSQLite)
    }

    @Test func notANumberAndInfinitiesReadBackAlike() throws {
        guard Self.server() != nil, let url = try PostgresAdmin.testDatabase() else { return }
        let folder = NSTemporaryDirectory() + "mlops-nan-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var read: [[String]] = []
        for location in [folder + "/mlops.sqlite", url] {
            let tracker = Tracker(store: try Store(path: location))
            let run = RunRecord(experimentID: try tracker.experimentID(named: "x"), name: "r", status: .running, startTime: 1, kind: .run)
            try tracker.create(run)
            try tracker.logMetrics(run.id, [MetricPoint(key: "nan", value: .nan, timestamp: 5), MetricPoint(key: "inf", value: .infinity, timestamp: 5),
                                            MetricPoint(key: "neg", value: -.infinity, timestamp: 5), MetricPoint(key: "tiny", value: 5e-324, timestamp: 5)])
            read.append(try tracker.latestMetrics(of: run.id).map { "\($0.key)=\($0.value)" })
        }
        #expect(read[0] == ["inf=inf", "nan=nan", "neg=-inf", "tiny=5e-324"])
        #expect(read[1] == read[0])
    }

    @Test func theStoreIsChosenByFlagThenEnvironmentThenSpec() throws {
        let cli = try MLOpsBinary("version: 1\ntracking: team/store.sqlite\njobs:\n  j:\n    stages:\n      a: { run: echo hi }\n")
        defer { cli.remove() }
        let none = ["MLOPS_TRACKING": ""]
        #expect(try cli.run(["run", "j", "-q"], environment: none).status == 0)
        #expect(FileManager.default.fileExists(atPath: cli.root + "/team/store.sqlite"))
        #expect(try cli.run(["run", "j", "-q"], environment: ["MLOPS_TRACKING": cli.root + "/env.sqlite"]).status == 0)
        #expect(try cli.run(["run", "j", "-q", "--tracking", cli.root + "/flag.sqlite"], environment: ["MLOPS_TRACKING": cli.root + "/env.sqlite"]).status == 0)
        func runs(_ file: String) throws -> Int {
            let out = try cli.run(["runs", "--json", "--tracking", cli.root + "/" + file])
            return (try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [Any])?.count ?? -1
        }
        #expect(try runs("team/store.sqlite") == 1 && runs("env.sqlite") == 1 && runs("flag.sqlite") == 1)
        try cli.write("jobs.yaml", "version: 1\ntracking: ''\njobs:\n  j:\n    stages:\n      a: { run: echo hi }\n")
        let empty = try cli.run(["validate"], environment: none)
        #expect(empty.status == 2 && empty.stderr.contains("tracking"), "\(empty.stderr)")
    }
}

/// Fencing: a runner that cannot renew its heartbeat stops its own stages before another host
/// may take the run over, so two copies of a stage never run at once.
@Suite("Fencing on a PostgreSQL store")
struct FencingTests {
    @Test func aRunnerCutOffFromItsDatabaseStopsItsStagesWithinTheWindow() throws {
        guard let server = PostgresStoreTests.server(), let url = try PostgresAdmin.testDatabase() else { return }
        let database = String(url.split(separator: "/").last ?? "")
        let cli = try MLOpsBinary("version: 1\njobs:\n  j:\n    stages:\n      long: { shell: true, run: 'echo $$ > \"$MLOPS_WORKSPACE/stage.pid\"; sleep 60' }\n")
        defer { cli.remove() }
        let window = ["MLOPS_TRACKING": url, "MLOPS_HEARTBEAT_WINDOW": "4000"]
        let runner = try cli.start(["run", "j"], environment: window)
        #expect(MLOpsBinary.eventually(20) { (try? cli.read("stage.pid")) != nil })
        let stage = Int32((try cli.read("stage.pid")).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(stage > 0 && isAlive(stage))
        // The database goes away for this runner: its connection is ended and no new one is let in.
        try PostgresAdmin.run(server: server, """
            ALTER DATABASE \(database) ALLOW_CONNECTIONS false;
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database)';
            """)
        let cut = Date()
        // Half the window (2 s) without a renewal, then TERM to the stage: gone before the window ends.
        #expect(MLOpsBinary.eventually(10) { !isAlive(stage) })
        #expect(Date().timeIntervalSince(cut) < 4, "the stage outlived the heartbeat window: \(Date().timeIntervalSince(cut)) s")
        let out = runner.wait()
        #expect(out.status != 0)
        #expect(out.stderr.contains("could not renew its heartbeat"), "\(out.stderr)")
        try PostgresAdmin.run(server: server, "ALTER DATABASE \(database) ALLOW_CONNECTIONS true")
        // The run, left RUNNING by a runner that could not record its end, is closed as orphaned.
        let listed = try cli.run(["runs", "--kind", "job", "--json"], environment: ["MLOPS_TRACKING": url])
        let runs = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]]
        #expect(runs?.count == 1 && runs?.first?["status"] as? String == "FAILED", "\(listed.stdout)\(listed.stderr)")
    }
}

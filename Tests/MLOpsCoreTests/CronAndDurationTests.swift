import Foundation
import Testing
@testable import MLOpsCore

@Suite struct CronExpressionTests {
    @Test func namesRangesStepsAndLists() throws {
        let cron = try CronExpression(parsing: "*/15 6-8 1,15 JAN-MAR MON-FRI")
        #expect(cron.minutes == [0, 15, 30, 45])
        #expect(cron.hours == [6, 7, 8])
        #expect(cron.daysOfMonth == [1, 15])
        #expect(cron.months == [1, 2, 3])
        #expect(cron.daysOfWeek == [1, 2, 3, 4, 5])
        #expect(try CronExpression(parsing: "0 0 * * 7").daysOfWeek == [0])
        #expect(try CronExpression(parsing: "@weekly").daysOfWeek == [0])
    }

    @Test(arguments: [
        ("0 6 * *", "a cron expression has 5 fields, '0 6 * *' has 4"),
        ("60 * * * *", "minute 60 is out of range 0-59"),
        ("0 6 * * FUNDAY", "'FUNDAY' is not a valid day-of-week"),
        ("0 9-5 * * *", "hour range '9-5' runs backwards"),
        ("*/0 * * * *", "step '0' in minute must be a positive number"),
        ("@fortnightly", "unknown cron macro '@fortnightly'"),
    ])
    func refusesWithAReason(text: String, message: String) {
        #expect(throws: CronExpression.ParseFailure.self) { try CronExpression(parsing: text) }
        do { _ = try CronExpression(parsing: text) } catch { #expect(error.message == message) }
    }

    @Test func nextFireOnMondaysAtSixInMadrid() throws {
        let cron = try CronExpression(parsing: "0 6 * * MON")
        let zone = try #require(TimeZone(identifier: "Europe/Madrid"))
        // Sunday 2026-03-29 is the spring DST switch in Madrid; the next Monday 06:00 is CEST (UTC+2).
        let start = Date(timeIntervalSince1970: 1_774_742_400) // 2026-03-29 00:00 UTC
        let next = try #require(cron.next(after: start, in: zone))
        #expect(next.timeIntervalSince1970 == 1_774_843_200) // 2026-03-30 04:00 UTC
    }

    @Test func dayOfMonthOrDayOfWeekWhenBothAreSet() throws {
        let cron = try CronExpression(parsing: "0 0 13 * FRI")
        #expect(cron.dayMatches(day: 13, weekday: 2))
        #expect(cron.dayMatches(day: 3, weekday: 5))
        #expect(!cron.dayMatches(day: 3, weekday: 2))
    }
}

@Suite struct SpecDurationTests {
    @Test(arguments: [("500ms", 500), ("30s", 30_000), ("15m", 900_000), ("2h", 7_200_000), ("7d", 604_800_000), ("1h30m", 5_400_000), ("1.5s", 1500)])
    func parses(text: String, millis: Int64) throws {
        #expect(try SpecDuration.parse(text).get().milliseconds == millis)
    }

    @Test(arguments: ["30", "", "5x", "m5", "1h 30"])
    func refuses(text: String) {
        #expect((try? SpecDuration.parse(text).get()) == nil)
    }

    @Test func printsCompactly() {
        #expect(SpecDuration(milliseconds: 5_400_000).description == "1h30m")
        #expect(SpecDuration(milliseconds: 250).description == "250ms")
    }
}

@Suite struct StageGraphTests {
    func job(_ stages: [(String, [String])]) -> JobSpec {
        JobSpec(name: "j", description: nil, schedule: nil, timezone: nil, concurrency: .forbid, maxParallel: nil, params: [],
                stages: stages.map { StageSpec(name: $0.0, action: .builtin("noop"), needs: $0.1) }, location: nil)
    }

    @Test func layersGroupWhatCanRunTogether() {
        let graph = StageGraph(job: job([("a", []), ("b", ["a"]), ("c", ["a"]), ("d", ["b", "c"]), ("e", [])]))
        #expect(graph.layers() == [["a", "e"], ["b", "c"], ["d"]])
        #expect(graph.ancestors(of: "d") == ["a", "b", "c"])
        #expect(graph.cycle() == nil)
    }

    @Test func findsACycle() {
        let graph = StageGraph(job: job([("a", ["c"]), ("b", ["a"]), ("c", ["b"]), ("d", [])]))
        #expect(graph.cycle() == ["a", "c", "b"])
        #expect(graph.layers().isEmpty)
    }

    @Test func dotDrawsEdgesTheWayDataFlows() {
        let dot = StageGraph(job: job([("a", []), ("b", ["a"])])).dot(jobName: "j")
        #expect(dot.contains("\"a\" -> \"b\";"))
        #expect(dot.hasPrefix("digraph \"j\" {"))
    }
}

@Suite struct CommandLineWordsTests {
    @Test func splitsLikeAShellWithoutExpanding() {
        #expect(CommandLineWords.split(#"python3 train.py --name "my model" --glob '*.csv' a\ b $HOME"#)
                == ["python3", "train.py", "--name", "my model", "--glob", "*.csv", "a b", "$HOME"])
        #expect(CommandLineWords.split("echo 'open") == nil)
        #expect(CommandLineWords.split("  ") == [])
    }
}

@Suite struct SuggestionTests {
    @Test func suggestsCloseNamesOnly() {
        #expect(Suggestion.closest(to: "trian", in: ["train", "score"]) == "train")
        #expect(Suggestion.closest(to: "neds", in: ["needs", "uses"]) == "needs")
        #expect(Suggestion.closest(to: "c", in: ["a", "b"]) == nil)
        #expect(Suggestion.closest(to: "deploy", in: ["ingest", "score"]) == nil)
    }
}

@Suite struct ScalarKindTests {
    @Test(arguments: [
        ("", ScalarKind.null), ("~", .null), ("null", .null), ("true", .bool), ("False", .bool),
        ("yes", .string), ("on", .string), ("42", .int), ("-7", .int), ("1_000", .int), ("0x1F", .int), ("0o17", .int),
        ("1.0", .float), ("-0.5e-3", .float), (".5", .float), ("1e10", .float), (".inf", .float), (".nan", .float),
        ("1.0.0", .string), ("30s", .string), ("0 6 * * MON", .string), ("-", .string), (".", .string), ("1e", .string),
        ("e5", .string), ("${params.k}", .string),
    ])
    func classifiesLikeTheCoreSchema(text: String, kind: ScalarKind) {
        #expect(ScalarKind.classify(text) == kind)
    }

    @Test func parsesValues() {
        #expect(ScalarKind.int("0x1F") == 31)
        #expect(ScalarKind.int("-1_000") == -1000)
        #expect(ScalarKind.double("2.5e1") == 25)
        #expect(ScalarKind.double("-.inf") == -.infinity)
        #expect(ScalarKind.bool("TRUE") == true)
        #expect(ScalarKind.bool("yes") == nil)
    }
}

import Testing
@testable import MLOpsCore

@Suite("jobs.yaml: every problem reported with file:line:column and a hint")
struct SpecParserTests {
    @Test func validSpecParsesEveryPart() throws {
        let spec = try SpecParser.parse(text: """
            version: 1
            jobs:
              weekly:
                schedule: "0 6 * * MON"
                timezone: Europe/Madrid
                max_parallel: 3
                params: { top_k: 1000, name: x }
                stages:
                  a: { run: echo hi }
                  b: { needs: a, uses: sleep, with: { duration: 10ms }, retries: 2, timeout: 1m30s, trigger_rule: all_done }
                  c: { needs: [a, b], run: "echo ${params.top_k}", shell: true, env: { X: "${params.name}" } }
            monitors:
              hit:
                model: propensity
                metric: hit_rate
                baseline: 0.2
                on_drop: { run: weekly }
            """, file: "jobs.yaml")
        let job = try #require(spec.job(named: "weekly"))
        #expect(job.maxParallel == 3)
        #expect(job.schedule?.daysOfWeek == [1])
        #expect(job.params.map(\.name) == ["top_k", "name"])
        #expect(job.stages.map(\.name) == ["a", "b", "c"])
        let b = try #require(job.stage(named: "b"))
        #expect(b.needs == ["a"])
        #expect(b.retries == 2)
        #expect(b.timeout == SpecDuration(milliseconds: 90_000))
        #expect(b.triggerRule == .allDone)
        #expect(job.stage(named: "c")?.action == .command("echo ${params.top_k}", shell: true))
        #expect(spec.monitors.first?.baseline == .value(0.2))
        #expect(spec.monitors.first?.onDropRun == "weekly")
        #expect(spec.sha256.count == 64)
    }

    @Test func yamlSyntaxErrorHasItsLocation() {
        let found = diagnostics("version: 1\njobs:\n  a:\n    stages: { x: { run: echo }\n")
        #expect(found.count == 1)
        #expect(found[0].location?.line == 5)
        #expect(found[0].message.hasPrefix("YAML syntax:"))
    }

    @Test func unknownKeyGetsDidYouMean() {
        let found = diagnostics("""
            version: 1
            jobs:
              j:
                stages:
                  a: { run: echo }
                  b: { neds: [a], run: echo }
            """)
        #expect(found.map(\.description) == [
            "jobs.yaml:6:12: error: unknown key 'neds' (at jobs.j.stages.b.neds)\n    hint: did you mean 'needs'?",
        ])
    }

    @Test func wrongTypeNamesWhatItFound() {
        let found = diagnostics("""
            version: 1
            jobs:
              j:
                stages:
                  a: { run: echo, retries: three }
            """)
        #expect(found.map(\.description) == [
            "jobs.yaml:5:32: error: expected a whole number, found the string 'three' (at jobs.j.stages.a.retries)",
        ])
    }

    @Test func stageWithoutUsesOrRun() {
        let found = diagnostics("""
            version: 1
            jobs:
              j:
                stages:
                  a: { needs: [] }
            """)
        #expect(found.count == 1)
        #expect(found[0].location == SourceLocation(file: "jobs.yaml", line: 5, column: 7))
        #expect(found[0].message == "stage 'a' has neither `uses:` nor `run:`")
        #expect(found[0].hint?.contains("noop") == true)
    }

    @Test func unknownNeedAndCyclePrintThePath() {
        let found = diagnostics("""
            version: 1
            jobs:
              j:
                stages:
                  a: { run: echo, needs: [c] }
                  b: { run: echo, needs: [a, trian] }
                  c: { run: echo, needs: [b] }
                  train: { run: echo }
            """)
        #expect(found.map(\.description) == [
            "jobs.yaml:5:31: error: cycle: a → c → b → a, where each stage needs the next (at jobs.j.stages)\n    hint: a stage cannot depend, directly or not, on itself; remove one of these needs",
            "jobs.yaml:6:34: error: stage 'b' needs unknown stage 'trian' (at jobs.j.stages.b.needs[1])\n    hint: did you mean 'train'?",
        ])
    }

    @Test func duplicateStageNames() {
        let found = diagnostics("""
            version: 1
            jobs:
              j:
                stages:
                  a: { run: echo }
                  a: { run: echo two }
            """)
        #expect(found.count == 1)
        #expect(found[0].message == "duplicate key 'a'")
        #expect(found[0].location?.line == 5)
    }

    @Test func badCronPointsAtTheField() {
        let found = diagnostics("""
            version: 1
            jobs:
              j:
                schedule: "0 25 * * MON"
                stages: { a: { run: echo } }
            """)
        #expect(found.map(\.description) == [
            "jobs.yaml:4:18: error: bad cron expression: hour 25 is out of range 0-23 (at jobs.j.schedule)\n    hint: five fields: minute hour day-of-month month day-of-week, e.g. \"0 6 * * MON\", or @hourly/@daily/@weekly/@monthly/@yearly",
        ])
    }

    @Test func badDurations() {
        let found = diagnostics("""
            version: 1
            jobs:
              j:
                stages:
                  a: { run: echo, timeout: 30 }
                  b: { run: echo, timeout: 5x }
            """)
        #expect(found.map(\.message) == ["bad duration: '30' has no unit", "bad duration: 'x' is not a unit of time in '5x'"])
        #expect(found.allSatisfy { $0.hint?.contains("30s, 15m, 2h, 7d") == true })
    }

    @Test func undefinedParamReferencePointsInsideTheString() {
        let found = diagnostics("""
            version: 1
            jobs:
              j:
                params: { top_k: 10 }
                stages:
                  a: { run: "score --k ${params.topk}" }
            """)
        #expect(found.map(\.description) == [
            "jobs.yaml:6:28: error: undefined param 'topk' in `${params.topk}` (at jobs.j.stages.a.run)\n    hint: did you mean 'top_k'?",
        ])
    }

    @Test func everyProblemIsReportedAtOnce() {
        let found = diagnostics("""
            version: 2
            jobs:
              j:
                concurency: forbid
                stages:
                  a: { uses: nop }
                  b: { run: echo, trigger_rule: any }
            monitors:
              m: { model: p, metric: hit_rate, on_drop: { run: nightly } }
            """)
        #expect(found.count == 5)
        #expect(found.map(\.location!.line) == [1, 4, 6, 7, 9])
        #expect(found[2].hint == "did you mean 'noop'?")
    }

    @Test func deploySettingsAreChecked() {
        let found = diagnostics("""
            version: 1
            jobs:
              j:
                stages:
                  d:
                    uses: deploy
                    with:
                      model: propensity
                      strategy: canary
                      steps:
                        - set_weight: 110
                        - bake: { min_samples: 400, max_duraton: 28d }
                        - analysis: hit_rate
            """)
        let messages = found.map(\.message)
        #expect(messages.contains("110 is above the maximum 100"))
        #expect(messages.contains("unknown key 'max_duraton'"))
        #expect(found.first { $0.message == "unknown key 'max_duraton'" }?.hint == "did you mean 'max_duration'?")
    }

    @Test func missingFileSaysWhatToDo() {
        #expect(throws: SpecError.self) { try SpecParser.load(path: "/nonexistent/jobs.yaml") }
        do {
            _ = try SpecParser.load(path: "/nonexistent/jobs.yaml")
        } catch {
            #expect(error.description.contains("no spec at /nonexistent/jobs.yaml"))
            #expect(error.diagnostics.first?.hint?.contains("--file") == true)
        }
    }
}

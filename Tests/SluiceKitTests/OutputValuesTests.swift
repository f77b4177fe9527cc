import Foundation
import SluiceTestSupport
import Testing

@testable import SluiceKit

/// Values between steps, with real processes: what a step writes to `$SLUICE_OUTPUT` reaches its downstream steps'
/// commands, environment and conditions, masked, recorded, and kept for resumed runs, up-to-date steps and a step
/// run alone.
struct OutputValuesTests {
    let workspace: TestWorkspace

    init() throws { workspace = try TestWorkspace() }

    @Test func theFileIsReadAsGitHubActionsReadsItsOutputFile() throws {
        let values = try OutputValuesFile.parse("a=1\r\nempty=\n\nlines<<END\none\n\ntwo=2\nEND\nurl=x=y\na=last\n")
        #expect(values == ["a": "last", "empty": "", "lines": "one\n\ntwo=2", "url": "x=y"])
        for (text, problem) in [
            ("just text\n", "line 1 is neither KEY=VALUE nor KEY<<DELIMITER"),
            ("x<<END\nno end\n", "line 1: the value of 'x' is not ended by a line 'END'"),
            ("x<<\n", "line 1: 'x<<' names no delimiter"),
            ("9lives=1\n", "line 1: \"9lives\" is not a key"),
            ("a b=1\n", "\"a b\" is not a key"),
            ("=1\n", "\"\" is not a key"),
        ] {
            #expect(throws: OutputValuesFile.Problem.self) { try OutputValuesFile.parse(text) }
            do { _ = try OutputValuesFile.parse(text) } catch { #expect(error.message.contains(problem), "\(text.debugDescription)") }
        }
    }

    @Test func valuesReachCommandsEnvironmentAndConditionsQuotedAndMasked() async throws {
        try workspace.pipeline(
            "values",
            """
            secrets: [API_KEY]
            steps:
              - name: choose
                command: |
                  echo "branch=b" >> "$SLUICE_OUTPUT"
                  echo 'evil=$(touch pwned); `touch pwned` '"'"'x' >> "$SLUICE_OUTPUT"
                  echo "key=uses $API_KEY here" >> "$SLUICE_OUTPUT"
                  printf 'notes<<EOF\\nfirst\\nsecond\\nEOF\\n' >> "$SLUICE_OUTPUT"
              - name: show
                depends_on: [choose]
                command: printf '%s|' {{ steps.choose.outputs.evil }} {{ steps.choose.outputs.notes }} "$NOTES" > shown.txt
                env: {NOTES: "{{ steps.choose.outputs.notes }}"}
              - {name: a, depends_on: [choose], if: "steps.choose.outputs.branch == 'a'", command: touch ran-a}
              - {name: b, depends_on: [choose], if: "steps.choose.outputs.branch in ['b', 'c']", command: touch ran-b}
              - {name: join, depends_on: [a, b], trigger_rule: none_failed_min_one_success, command: touch joined}
            """)
        let request = RunRequest(pipeline: try workspace.load("values"), jobs: 2, secrets: ["API_KEY": "s3cr3t-value"], workspace: workspace.root)
        let outcome = try await workspace.runner().run(try PipelineRunner.prepare(request))
        #expect(outcome.run.status == .success)
        #expect(!workspace.exists("pwned"), "a value is never read as code")
        #expect(try workspace.read("shown.txt") == "$(touch pwned); `touch pwned` 'x|first\nsecond|first\nsecond|")
        #expect(outcome.step("a")?.state == .skipped)
        #expect(outcome.step("a")?.reason == "if: steps.choose.outputs.branch == 'a' is false (steps.choose.outputs.branch = 'b')")
        #expect(workspace.exists("ran-b") && workspace.exists("joined"), "the branch taken ran, and the join after it")
        let recorded = try #require(outcome.step("choose")?.outputValues)
        #expect(recorded["key"] == "uses *** here", "a secret is masked where it is recorded")
        #expect(recorded["branch"] == "b")
        let events = try await workspace.store().events(runID: outcome.run.id, after: 0)
        let said = events.filter { $0.kind == "values_recorded" }.compactMap(\.message)
        #expect(said.count == 1 && said[0].contains("key=uses *** here"))
        #expect(try !workspace.read("runs/\(outcome.run.id)/run.log").contains("s3cr3t"))
    }

    @Test func aFanOutPassesItsInstancesValuesAsAListAndAPairedInstanceItsOwn() async throws {
        try workspace.pipeline(
            "fan",
            """
            steps:
              - {name: measure, foreach: [apple, fig], command: "echo size=${#SLUICE_ITEM} >> $SLUICE_OUTPUT"}
              - {name: label, foreach: [apple, fig], depends_on: [measure], command: "echo {{ item }}={{ steps.measure.outputs.size }} >> labels.txt"}
              - {name: total, depends_on: [measure], command: "echo {{ steps.measure.outputs.size }} > total.txt"}
              - {name: big, depends_on: [measure], if: "'5' in steps.measure.outputs.size", command: touch big}
            """)
        let outcome = try await workspace.run("fan", jobs: 1)
        #expect(outcome.run.status == .success)
        #expect(try workspace.read("total.txt") == "[\"5\",\"3\"]\n", "in item order")
        #expect(try workspace.read("labels.txt").split(separator: "\n").sorted() == ["apple=5", "fig=3"])
        #expect(workspace.exists("big"))
    }

    @Test func anUpToDateStepAndAResumedRunPassOnWhatTheStepPassedWhenItRan() async throws {
        try workspace.pipeline(
            "cached",
            """
            steps:
              - {name: stamp, outputs: [stamp.txt], command: "date +%s%N | tee stamp.txt | sed 's/^/at=/' >> $SLUICE_OUTPUT"}
              - {name: use, depends_on: [stamp], command: "echo {{ steps.stamp.outputs.at }} >> used.txt && test -e go"}
            """)
        let first = try await workspace.run("cached")
        #expect(first.run.status == .failed)
        let stamp = try workspace.read("stamp.txt").trimmingCharacters(in: .whitespacesAndNewlines)
        try workspace.write("go", "")
        let resumed = try await workspace.runner().run(
            try await Resumption.claim(
                first.run, pipeline: try workspace.load("cached"), store: try workspace.store(), jobs: 2, workspace: workspace.root))
        #expect(resumed.run.status == .success)
        let again = try await workspace.run("cached")
        #expect(again.step("stamp")?.state == .upToDate)
        #expect(again.step("stamp")?.outputValues == ["at": stamp])
        #expect(try workspace.read("used.txt") == String(repeating: stamp + "\n", count: 3), "first go, resumed, up to date")
    }

    @Test func aStepRunAloneTakesItsUpstreamValuesAndOutputsFromTheNewestRunWhereTheySucceeded() async throws {
        try workspace.pipeline(
            "alone",
            """
            params:
              n: {type: string, default: "1"}
            steps:
              - {name: list, command: "echo n={{ params.n }} >> $SLUICE_OUTPUT && echo {{ params.n }} > $SLUICE_OUTPUTS_DIR/data.txt"}
              - {name: load, depends_on: [list], command: "echo {{ steps.list.outputs.n }} $(cat $SLUICE_OUTPUTS_DIR/data.txt) >> loaded.txt"}
            """)
        let alone = Selection(only: ["load"])
        let pipeline = try workspace.load("alone")
        let store = try workspace.store()
        let never = try PipelineRunner.prepare(RunRequest(pipeline: pipeline, selection: alone, jobs: 1, workspace: workspace.root))
        await #expect(throws: SluiceError.self) { try await UpstreamRun.find(for: never, in: store) }

        let first = try await workspace.run("alone", parameters: ["n": "1"])
        _ = try await workspace.run("alone", parameters: ["n": "2"])
        for (from, expected) in [(nil, "2 2"), (first.run.id, "1 1")] {
            let prepared = try PipelineRunner.prepare(RunRequest(pipeline: pipeline, selection: alone, jobs: 1, workspace: workspace.root))
            let upstream = try #require(try await UpstreamRun.find(for: prepared, in: store, fromRun: from))
            #expect(upstream.sources.map(\.step) == ["list"])
            let outcome = try await workspace.runner().run(prepared, upstream: upstream)
            #expect(outcome.run.status == .success)
            #expect(try workspace.read("loaded.txt").split(separator: "\n").last.map(String.init) == expected)
        }
        await #expect(throws: SluiceError.self) { try await UpstreamRun.find(for: never, in: store, fromRun: "nope") }
    }

    @Test func tooMuchOrUnreadableOutputFailsTheAttemptAndSaysWhy() async throws {
        try workspace.pipeline(
            "bad",
            """
            steps:
              - {name: huge, command: "head -c 1100000 /dev/zero | tr '\\\\0' x | sed 's/^/k=/' > $SLUICE_OUTPUT"}
              - {name: junk, command: "echo not a value > $SLUICE_OUTPUT"}
            """)
        let outcome = try await workspace.run("bad", continueOnError: true)
        #expect(outcome.step("huge")?.state == .failed)
        #expect(outcome.step("huge")?.error?.contains("more than 1 MiB to $SLUICE_OUTPUT") == true)
        #expect(outcome.step("junk")?.error?.contains("$SLUICE_OUTPUT line 1 is neither KEY=VALUE nor KEY<<DELIMITER") == true)
    }
}

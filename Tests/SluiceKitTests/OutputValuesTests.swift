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
              - {name: usekey, depends_on: [choose], command: "echo {{ steps.choose.outputs.key }} | tee key.txt"}
              - {name: quoted, depends_on: [choose], if: "steps.choose.outputs.evil == 'x'", command: "true"}
            """)
        let request = RunRequest(pipeline: try workspace.load("values"), jobs: 2, secrets: ["API_KEY": "s3cr3t-value"], workspace: workspace.root)
        let outcome = try await workspace.runner().run(try PipelineRunner.prepare(request))
        #expect(outcome.run.status == .success)
        #expect(!workspace.exists("pwned"), "a value is never read as code")
        #expect(try workspace.read("shown.txt") == "$(touch pwned); `touch pwned` 'x|first\nsecond|first\nsecond|")
        #expect(outcome.step("a")?.state == .skipped)
        #expect(outcome.step("a")?.reason == "if: steps.choose.outputs.branch == 'a' is false (steps.choose.outputs.branch = 'b')")
        #expect(workspace.exists("ran-b") && workspace.exists("joined"), "the branch taken ran, and the join after it")
        #expect(
            outcome.step("quoted")?.reason
                == "if: steps.choose.outputs.evil == 'x' is false (steps.choose.outputs.evil = '$(touch pwned); `touch pwned` \\'x')",
            "a quote in a value is escaped where the reason quotes it")
        let recorded = try #require(outcome.step("choose")?.outputValues)
        #expect(recorded["key"] == "uses *** here", "a secret is masked where it is recorded")
        #expect(try workspace.read("key.txt") == "uses s3cr3t-value here\n", "and reaches the steps downstream as written")
        #expect(try workspace.read("runs/\(outcome.run.id)/logs/usekey.log") == "uses *** here\n", "its log is masked")
        #expect(!workspace.exists("runs/\(outcome.run.id)/values/choose.1"), "the file, which holds the secret, is gone once read")
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

    @Test func aFanOutWithoutItemsPassesOnAnEmptyList() async throws {
        try workspace.pipeline(
            "none",
            """
            params:
              samples: {type: list, default: []}
            steps:
              - {name: measure, foreach: "{{ params.samples }}", command: "echo n=1 >> $SLUICE_OUTPUT"}
              - {name: total, depends_on: [measure], if: "steps.measure.outputs.n == []", command: "echo {{ steps.measure.outputs.n }} > total.txt"}
            """)
        let outcome = try await workspace.run("none")
        #expect(outcome.run.status == .success)
        #expect(try workspace.read("total.txt") == "[]\n")
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
        let long = await #expect(throws: SluiceError.self) {
            try await UpstreamRun.find(for: never, in: store, fromRun: String(repeating: "x", count: 100_000))
        }
        #expect(long?.message.count ?? .max < 200, "a huge id is not said back whole")
    }

    @Test func tooMuchOrUnreadableOutputFailsTheAttemptAndSaysWhy() async throws {
        try workspace.pipeline(
            "bad",
            """
            steps:
              - {name: huge, command: "head -c 1100000 /dev/zero | tr '\\\\0' x | sed 's/^/k=/' > $SLUICE_OUTPUT"}
              - {name: junk, command: "echo not a value > $SLUICE_OUTPUT"}
              - {name: fifo, command: "rm -f $SLUICE_OUTPUT && mkfifo $SLUICE_OUTPUT"}
              - {name: link, command: "ln -sf /etc/passwd $SLUICE_OUTPUT"}
              - {name: failing, command: "echo secret=1 >> $SLUICE_OUTPUT; false"}
            """)
        let outcome = try await workspace.run("bad", continueOnError: true)
        #expect(outcome.step("huge")?.state == .failed)
        #expect(outcome.step("huge")?.error?.contains("more than 1 MiB to $SLUICE_OUTPUT") == true)
        #expect(outcome.step("junk")?.error?.contains("$SLUICE_OUTPUT line 1 is neither KEY=VALUE nor KEY<<DELIMITER") == true)
        #expect(outcome.step("fifo")?.error?.contains("is not a regular file") == true, "read without waiting for a writer")
        #expect(outcome.step("link")?.error?.contains("it must be a regular file") == true, "a link is not followed")
        #expect(outcome.step("link")?.error?.contains("root") == false)
        #expect(!workspace.exists("runs/\(outcome.run.id)/values/failing.1"), "what a failed attempt wrote is removed too")
    }
}

/// A fan-out over an upstream step's value meets its items at run time, with real processes.
struct RunTimeFanOutTests {
    let workspace: TestWorkspace

    init() throws { workspace = try TestWorkspace() }

    @Test func itsInstancesAppearWhenTheValueIsKnownAndAResumeRerunsOnlyTheFailedOne() async throws {
        try workspace.pipeline(
            "dyn",
            """
            steps:
              - name: list
                command: echo 'files=[{"name":"a","rows":1},{"name":"b","rows":2},{"name":"c","rows":3}]' >> $SLUICE_OUTPUT
              - name: process
                depends_on: [list]
                foreach: "{{ steps.list.outputs.files }}"
                max_parallel: 1
                command: echo {{ item.name }} >> ran.txt && echo doubled=$(expr {{ item.rows }} \\* 2) >> $SLUICE_OUTPUT && test {{ item.name }} != b -o -e fix-b
              - {name: merge, depends_on: [process], command: "echo {{ steps.process.outputs.doubled }} > merged.txt"}
            """)
        let first = try await workspace.run("dyn", jobs: 2)
        #expect(first.run.status == .failed)
        #expect(first.steps.map(\.step) == ["list", "process", "merge", "process[a,1]", "process[b,2]", "process[c,3]"])
        #expect(first.step("process[b,2]")?.state == .failed)
        #expect(first.step("process[c,3]")?.state == .succeeded, "a failed instance does not stop its siblings")
        #expect(first.step("process")?.error == "1 of its 3 instances failed")
        #expect(first.step("merge")?.state == .skipped)
        #expect(try await workspace.store().run(id: first.run.id)?.stepsTotal == 6)

        try workspace.write("fix-b", "")
        try FileManager.default.removeItem(atPath: workspace.path("ran.txt"))
        let resumed = try await workspace.runner().run(
            try await Resumption.claim(
                first.run, pipeline: try workspace.load("dyn"), store: try workspace.store(), jobs: 2, workspace: workspace.root))
        #expect(resumed.run.status == .success)
        #expect(try workspace.read("ran.txt") == "b\n", "only the failed instance ran again")
        #expect(try workspace.read("merged.txt") == "[\"2\",\"4\",\"6\"]\n", "the join reads every instance's value, in item order")
        #expect(resumed.steps.count == 6, "the resumed run's instances keep their rows")
    }

    @Test func aRetryOrAStepRunAloneRunsOnlyTheInstancesItNeeds() async throws {
        try workspace.pipeline(
            "dyn",
            """
            steps:
              - {name: list, command: "echo 'files=[\\"a\\",\\"b\\",\\"c\\"]' >> $SLUICE_OUTPUT"}
              - name: process
                depends_on: [list]
                foreach: "{{ steps.list.outputs.files }}"
                command: echo {{ item }} >> ran.txt && echo n={{ item }}1 >> $SLUICE_OUTPUT && test {{ item }} != b -o -e fix-b
              - {name: merge, depends_on: [process], command: "echo {{ steps.process.outputs.n }} > merged.txt"}
            """)
        let first = try await workspace.run("dyn", jobs: 1)
        #expect(first.step("process[b]")?.state == .failed)
        try workspace.write("fix-b", "")
        try FileManager.default.removeItem(atPath: workspace.path("ran.txt"))
        let pipeline = try workspace.load("dyn")
        let store = try workspace.store()
        let plan = try await RunRetry.plan(of: first.run, pipeline: pipeline, store: store)
        let prepared = try PipelineRunner.prepare(
            RunRequest(pipeline: pipeline, selection: plan.selection, parameters: plan.parameters, jobs: 1, workspace: workspace.root))
        let retried = try await workspace.runner().run(prepared, upstream: plan.upstream)
        #expect(retried.run.status == .success)
        #expect(try workspace.read("ran.txt") == "b\n", "the instances that succeeded are not run again")
        #expect(try workspace.read("merged.txt") == "[\"a1\",\"b1\",\"c1\"]\n", "and pass on what they passed before")

        try FileManager.default.removeItem(atPath: workspace.path("ran.txt"))
        let alone = try PipelineRunner.prepare(
            RunRequest(pipeline: pipeline, selection: Selection(steps: ["process[c]"]), jobs: 1, workspace: workspace.root))
        let upstream = try await UpstreamRun.find(for: alone, in: store)
        #expect(try await workspace.runner().run(alone, upstream: upstream).run.status == .success)
        #expect(try workspace.read("ran.txt") == "c\n", "sluice step P 'process[c]' runs that instance alone")
    }

    @Test func eachInstanceReadsTheConditionAndAStaticFanOutsValuesCanBeFannedOutOver() async throws {
        try workspace.pipeline(
            "chain",
            """
            steps:
              - {name: size, foreach: [ab, cde], command: "echo n=${#SLUICE_ITEM} >> $SLUICE_OUTPUT"}
              - {name: each, depends_on: [size], foreach: "{{ steps.size.outputs.n }}", if: "item != '2'", command: "echo {{ item }} >> ran.txt"}
              - {name: last, depends_on: [each], command: "echo {{ steps.size.outputs.n }} > last.txt"}
            """)
        let outcome = try await workspace.run("chain", jobs: 1)
        #expect(outcome.run.status == .success)
        #expect(outcome.step("each[2]")?.state == .skipped, "the condition is the instance's, with its item")
        #expect(try workspace.read("ran.txt") == "3\n")
        #expect(outcome.steps.filter { $0.state == .pending }.isEmpty)

        // Run alone, `last` takes `size`'s values (upstream through `each`) from that run.
        let alone = try PipelineRunner.prepare(
            RunRequest(pipeline: try workspace.load("chain"), selection: Selection(steps: ["last"]), jobs: 1, workspace: workspace.root))
        let upstream = try await UpstreamRun.find(for: alone, in: try workspace.store())
        try FileManager.default.removeItem(atPath: workspace.path("last.txt"))
        _ = try await workspace.runner().run(alone, upstream: upstream)
        #expect(try workspace.read("last.txt") == "[\"2\",\"3\"]\n")

        let typo = try PipelineRunner.prepare(
            RunRequest(pipeline: try workspace.load("chain"), selection: Selection(steps: ["each[9]"]), jobs: 1, workspace: workspace.root))
        let refused = try await workspace.runner().run(typo, upstream: try await UpstreamRun.find(for: typo, in: try workspace.store()))
        #expect(refused.step("each")?.error == "foreach: it has no instance 'each[9]'; its instances are each[2], each[3]")
    }

    @Test func aMisspeltKeyOrAValueThatIsNoListFailsTheFanOutSayingWhy() async throws {
        try workspace.pipeline(
            "bad",
            """
            steps:
              - {name: list, command: "echo 'files=[1,2' >> $SLUICE_OUTPUT"}
              - {name: typo, depends_on: [list], foreach: "{{ steps.list.outputs.flies }}", command: "true"}
              - {name: broken, depends_on: [list], foreach: "{{ steps.list.outputs.files }}", command: "true"}
            """)
        let outcome = try await workspace.run("bad", continueOnError: true)
        #expect(outcome.step("typo")?.error == "foreach: step 'list' passed on no value 'flies'; it passed on: files")
        #expect(
            outcome.step("broken")?.error
                == "foreach: {{ steps.list.outputs.files }} starts with '[' but is no JSON list of values or of flat mappings: [1,2")
    }

    @Test func anEmptyValueRunsTheDownstreamStepsAndABadItemFailsTheFanOutWithWhy() async throws {
        try workspace.pipeline(
            "edge",
            """
            params:
              items: {type: string, default: ""}
            steps:
              - {name: list, env: {ITEMS: "{{ params.items }}"}, command: "printf 'files<<END\\n%s\\nEND\\n' \\"$ITEMS\\" >> $SLUICE_OUTPUT"}
              - {name: each, depends_on: [list], foreach: "{{ steps.list.outputs.files }}", command: "true", outputs: ["out/{{ item }}.txt"]}
              - {name: after, depends_on: [each], command: touch after}
            """)
        let empty = try await workspace.run("edge")
        #expect(empty.run.status == .success)
        #expect(empty.step("each")?.state == .succeeded)
        #expect(workspace.exists("after"), "no items: what waits for the fan-out runs after what it waited for")

        let escaping = try await workspace.run("edge", parameters: ["items": "../../etc/x"])
        #expect(escaping.step("each")?.state == .failed)
        #expect(escaping.step("each")?.error?.hasPrefix("foreach: step 'each' for item \"../../etc/x\": 'outputs' becomes") == true)
        #expect(escaping.steps.allSatisfy { !$0.step.hasPrefix("each[") }, "no instance was added")
    }

    @Test func mistakesInReadingUpstreamValuesAreRefusedWhereTheyAre() throws {
        try workspace.pipeline(
            "p",
            """
            steps:
              - {name: a, command: "true"}
              - {name: b, depends_on: [a], command: "true", workdir: "{{ steps.a.outputs.dir }}"}
              - {name: c, command: "echo {{ steps.a.outputs.n }} {{ steps.nope.outputs.n }} {{ steps.a.state }}"}
              - {name: d, foreach: "{{ steps.a.outputs.list }}", command: "true"}
              - {name: e, depends_on: [a], foreach: "{{ steps.a.state }}", command: "true"}
              - name: f
                command: |
                  echo one
                    echo {{ steps.a.outputs.n }}
            """)
        let found = PipelineCatalog.scan(workspace.pipelinesDirectory).entry("p")!.diagnostics.map {
            "\($0.location.line):\($0.location.column): \($0.message)"
        }
        #expect(
            found == [
                "3:59: {{ steps.a.outputs.dir }} in 'workdir' of step 'b': an upstream step's values are known in 'command', 'env' and 'if' only",
                "4:30: {{ steps.a.outputs.n }} in step 'c': 'a' is not upstream of it, so its values are not known when it starts",
                "4:54: {{ steps.nope.outputs.n }} in step 'c' names no step of this pipeline",
                "4:81: {{ steps.a.state }} in step 'c' is not known",
                "5:5: foreach: {{ steps.a.outputs.list }} in step 'd': 'a' is not upstream of it, so its values are not known when it starts",
                "6:41: 'foreach: {{ steps.a.state }}' names no list parameter",
                "10:14: {{ steps.a.outputs.n }} in step 'f': 'a' is not upstream of it, so its values are not known when it starts",
            ])
    }
}

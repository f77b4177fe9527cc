import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// `pipeline:` steps, as a Kestra ForEachItem flow ports to Sluice: a parent that runs a child pipeline per item,
/// with the real `sluice` binary running both, cancelled by a signal and resumed as a user would.
struct SubPipelineTests {
    let workspace: TestWorkspace

    init() throws {
        workspace = try TestWorkspace()
        try workspace.pipeline(
            "batch",
            """
            params:
              name: {type: string, required: true}
              slow: {type: string, default: "no"}
            steps:
              - name: load
                command: 'printf "%s\\n" "$NAME" > "$SLUICE_RUN_DIR/name.txt"; echo "rows=${#NAME}" >> "$SLUICE_OUTPUT"'
              - name: publish
                depends_on: [load]
                command: |
                  if [ "$SLOW" = yes ]; then touch "$SLUICE_WORKSPACE/started-$SLUICE_RUN_ID"; sleep 60; fi
                  echo "published=$NAME" >> "$SLUICE_OUTPUT"
            """)
    }

    func sluice(_ arguments: String...) throws -> SluiceBinary.Result { try SluiceBinary.run(arguments, in: workspace.root) }

    func runs(of pipeline: String) async throws -> [RunRecord] {
        try await workspace.store().runs(RunFilter(pipeline: pipeline), limit: 100, offset: 0)
    }

    @Test func aParentRunsOneChildPerItemWithItsParametersAndTakesItsValues() async throws {
        try workspace.pipeline(
            "nightly",
            """
            steps:
              - name: each
                foreach: ["a", "it's $(id) `x`"]
                pipeline: batch
                params: {name: "{{ item }}"}
              - name: one
                pipeline: batch
                params: {name: "n-{{ item }}"}
                foreach: ["z"]
              - name: single
                pipeline: batch
                params: {name: "solo"}
              - name: report
                depends_on: [single]
                command: 'echo got {{ steps.single.outputs.rows }} {{ steps.single.outputs.published }}'
            """)
        let run = try sluice("run", "nightly")
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let parent = try #require(try await runs(of: "nightly").first)
        let children = try await workspace.store().childRuns(of: parent.id)
        #expect(children.map { $0.parent?.step } == ["each[a]", "each[it's $(id) `x`]", "one[z]", "single"])
        #expect(children.allSatisfy { $0.status == .success && $0.trigger.hasPrefix("parent:\(parent.id):") })
        // Shell syntax in an item reaches the child as text: nothing of it ran.
        #expect(children.map { $0.parameters["name"] } == ["a", "it's $(id) `x`", "n-z", "solo"])
        #expect(try workspace.read("runs/\(children[1].id)/name.txt") == "it's $(id) `x`\n")
        // The child's values are the step's: the downstream step reads them as any step's.
        #expect(try workspace.read("runs/\(parent.id)/logs/report.log") == "got 4 solo\n")

        let status = try sluice("status", parent.id)
        #expect(status.stdout.contains("child run \(children[3].id) of batch, for step single: success"), "\(status.stdout)")
        let childStatus = try sluice("status", children[3].id)
        #expect(childStatus.stdout.contains("started by step single of run \(parent.id)"), "\(childStatus.stdout)")
        let listed = try sluice("runs", "--trigger", "parent:\(parent.id)")
        #expect(listed.stdout.split(separator: "\n").count == 5, "a header and the four children: \(listed.stdout)")
    }

    @Test func cancellingTheParentCancelsItsChildrenAndResumingItResumesThemInPlace() async throws {
        // The quick child must end before the cancel: it runs alone first.
        try workspace.pipeline(
            "parent",
            """
            params:
              slow: {type: string, default: "yes"}
            steps:
              - name: quick
                pipeline: batch
                params: {name: quick}
              - name: each
                depends_on: [quick]
                foreach: ["slow1", "slow2"]
                pipeline: batch
                params: {name: "{{ item }}", slow: "{{ params.slow }}"}
            """)
        let running = try SluiceBinary.start(["run", "parent"], in: workspace.root)
        // Both slow children have reached their long step.
        #expect(
            try await waitUntil(timeout: 60) {
                try FileManager.default.contentsOfDirectory(atPath: workspace.root).filter { $0.hasPrefix("started-") }.count == 2
            })
        kill(running.process.processIdentifier, SIGTERM)
        running.process.waitUntilExit()
        #expect(running.process.terminationStatus == 143)
        let parent = try #require(try await runs(of: "parent").first)
        #expect(parent.status == .cancelled)
        var children = try await workspace.store().childRuns(of: parent.id)
        #expect(children.map(\.status) == [.cancelled, .cancelled, .success], "each[slow1], each[slow2], quick")
        let before = children.map(\.id)

        // Resumed with the long step made short (the pipeline as it is now): the cancelled children continue in place.
        try workspace.pipeline("batch", try workspace.read("pipelines/batch.yaml").replacingOccurrences(of: "sleep 60", with: "true"))
        let resumed = try sluice("resume", parent.id)
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        children = try await workspace.store().childRuns(of: parent.id)
        #expect(children.map(\.id) == before, "no new child run")
        #expect(children.allSatisfy { $0.status == .success })
        #expect(try await runs(of: "batch").count == 3)
        let quick = try #require(children.last)
        #expect(try await workspace.store().attempts(runID: quick.id).count == 2, "the child that succeeded did not run again")
        let slow = try await workspace.store().stepRuns(runID: children[0].id)
        #expect(slow.map(\.attempts) == [1, 2], "only the cancelled step of the child ran again")
    }

    @Test func aPipelineThatRunsItselfOrAMissingOneIsRefusedBeforeAnythingRuns() async throws {
        try workspace.pipeline("a", "steps:\n  - name: call_b\n    pipeline: b\n")
        try workspace.pipeline("b", "steps:\n  - name: first\n    command: 'true'\n  - name: back\n    pipeline: a\n")
        try workspace.pipeline("c", "steps:\n  - name: self\n    pipeline: c\n  - name: typo\n    pipeline: bach\n")
        let validate = try sluice("validate")
        #expect(validate.status == 65)
        #expect(validate.stdout.contains("a.yaml:2:5: error: step 'call_b' runs pipeline 'b', which runs 'a' again: a → b → a"), "\(validate.stdout)")
        #expect(validate.stdout.contains("step 'back' runs pipeline 'a', which runs 'b' again: b → a → b"))
        #expect(validate.stdout.contains("step 'self' runs pipeline 'c', which runs 'c' again: c → c"))
        #expect(validate.stdout.contains("step 'typo' runs pipeline 'bach', which does not exist\n    fix: did you mean 'batch'?"))
        let run = try sluice("run", "a")
        #expect(run.status == 65 && run.stderr.contains("a → b → a"), "\(run.stderr)")
        #expect(try await workspace.store().countRuns(RunFilter()) == 0, "nothing was recorded")
    }
}

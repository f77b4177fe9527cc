import Foundation
import SluiceTestSupport
import Testing

@testable import SluiceKit

/// Fan-outs run with real processes: each instance its own process, log, retries and state; resume and reruns
/// touch only the instances that need it.
struct FanOutRunTests {
    let workspace: TestWorkspace

    init() throws { workspace = try TestWorkspace() }

    /// Each instance prints its item and appends it to `ran.txt`; `B` fails while `fix-B` is missing, or as `gate` says.
    private func samplesPipeline(retries: Int = 0, gate: String = "test $SLUICE_ITEM != B -o -e fix-B") throws {
        try workspace.pipeline(
            "samples",
            """
            params:
              samples: {type: list, default: [A, B, C]}
            steps:
              - name: count
                foreach: "{{ params.samples }}"
                retries: \(retries)
                command: "echo {{ item }} | tee -a ran.txt && \(gate) && mkdir -p out && echo {{ item }} > out/{{ item }}.txt"
                outputs: ["out/{{ item }}.txt"]
              - {name: merge, depends_on: [count], command: "cat out/*.txt > merged.txt"}
            """)
    }

    private func ran() throws -> [String] {
        let text = workspace.exists("ran.txt") ? try workspace.read("ran.txt") : ""
        return text.split(separator: "\n").map(String.init).sorted()
    }

    @Test func aFailedInstanceIsResumedAloneAndTheJoinThenRuns() async throws {
        try samplesPipeline()
        let first = try await workspace.run("samples", jobs: 2)
        #expect(first.run.status == .failed)
        #expect(first.step("count[A]")?.state == .succeeded)
        #expect(first.step("count[B]")?.state == .failed)
        #expect(first.step("count[C]")?.state == .succeeded, "a failed instance does not stop its siblings")
        #expect(first.step("merge")?.state == .skipped)
        #expect(try workspace.read("runs/\(first.run.id)/logs/count[B].log") == "B\n")

        try workspace.write("fix-B", "")
        try FileManager.default.removeItem(atPath: workspace.path("ran.txt"))
        let store = try workspace.store()
        let resumption = try await Resumption.claim(
            first.run, pipeline: try workspace.load("samples"), store: store, jobs: 2, workspace: workspace.root)
        let resumed = try await workspace.runner().run(resumption)
        #expect(resumed.run.status == .success)
        #expect(try ran() == ["B"], "only the failed instance ran again")
        #expect(resumed.step("count[B]")?.attempts == 2)
        #expect(try workspace.read("merged.txt") == "A\nB\nC\n")
    }

    @Test func aRerunAfterAddingAnItemRunsOnlyTheNewInstance() async throws {
        try samplesPipeline()
        try workspace.write("fix-B", "")
        #expect(try await workspace.run("samples").run.status == .success)
        try FileManager.default.removeItem(atPath: workspace.path("ran.txt"))
        let again = try await workspace.run("samples", parameters: ["samples": "A,B,C,D"])
        #expect(try ran() == ["D"])
        #expect(again.steps.filter { $0.state == .upToDate }.map(\.step) == ["count[A]", "count[B]", "count[C]"])
        #expect(try workspace.read("merged.txt") == "A\nB\nC\nD\n")
    }

    @Test func aFailingInstanceIsRetriedOnItsOwn() async throws {
        // B fails once.
        try samplesPipeline(retries: 1, gate: "{ test $SLUICE_ITEM != B -o -e tried-B || { touch tried-B; false; }; }")
        let outcome = try await workspace.run("samples", jobs: 1)
        #expect(outcome.run.status == .success)
        #expect(outcome.steps.map { "\($0.step):\($0.attempts)" }.sorted() == ["count[A]:1", "count[B]:2", "count[C]:1", "merge:1"])
    }

    /// A list parameter too long for the environment (the kernel refuses a variable past 128 KiB) is left out of it:
    /// every step still starts, and the instances get their own item.
    @Test func aLongListParameterStaysOutOfTheEnvironment() async throws {
        try workspace.pipeline(
            "long",
            """
            params:
              ids: {type: list}
            steps:
              - {name: first, foreach: [a], command: 'test -z "$IDS" && echo {{ item }} > first.txt'}
              - {name: after, depends_on: [first], command: 'true'}
            """)
        let ids = (0..<30_000).map { "id-\($0)" }.joined(separator: ",")
        let outcome = try await workspace.run("long", parameters: ["ids": ids])
        #expect(outcome.run.status == .success, "\(outcome.steps.map { "\($0.step): \($0.error ?? "")" })")
        #expect(try workspace.read("first.txt") == "a\n")
    }

    /// Items whose text is shell syntax reach the step as data: nothing they spell out runs.
    @Test func anInjectionAttemptStaysInert() async throws {
        try workspace.pipeline(
            "inject",
            """
            params:
              names: {type: list}
            steps:
              - {name: greet, foreach: "{{ params.names }}", command: "printf '%s\\n' {{ item }} > \\"out-$SLUICE_STEP.txt\\""}
            """)
        let hostile = ["$(touch pwned)", "`touch pwned`", "x; touch pwned", "'; touch pwned; '", "a\nb"]
        let list =
            "["
            + hostile.map { "\"" + $0.replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }.joined(
                separator: ",") + "]"
        let outcome = try await workspace.run("inject", parameters: ["names": list])
        #expect(outcome.run.status == .success)
        #expect(!workspace.exists("pwned"), "no item ran a command")
        let printed = try outcome.steps.map { try workspace.read("out-\($0.step).txt") }
        #expect(printed.sorted() == hostile.map { $0 + "\n" }.sorted())
    }
}

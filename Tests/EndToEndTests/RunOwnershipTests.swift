import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// Who runs a run, across Sluice processes: after `kill -9` of the `sluice` process at random moments, the next
/// start finds the run, ends the step processes it left and records it interrupted, and `sluice resume` finishes it;
/// two resumes never run the same steps; a cancel asked for through the store reaches the owner; `concurrency:`
/// queues or refuses runs. Serialized (see ``CommandLineTests``).
@Suite(.serialized)
struct RunOwnershipTests {
    let workspace: TestWorkspace

    /// 200 steps: 20 chains of 10, each step sleeping 0.10 to 0.18 s, then appending its name to done.txt.
    init() throws {
        workspace = try TestWorkspace()
        let steps = (0..<200).map { index in
            let upstream = index % 10 == 0 ? "" : ", depends_on: [s\(index - 1)]"
            return "  - {name: s\(index), command: 'sleep 0.1$((RANDOM % 9)); echo $SLUICE_STEP >> done.txt'\(upstream)}"
        }
        try workspace.pipeline("big", "steps:\n" + steps.joined(separator: "\n") + "\n")
    }

    /// Synchronous, and reading the store through the binary: a test waiting on the cooperative pool can be starved
    /// by other tests, and its kill would then come after the run has ended.
    @Test func aRunKilledAtTwentyRandomPointsLosesNothingLeavesNoProcessAndResumesToTheEnd() throws {
        var generator = SystemRandomNumberGenerator()
        var id: String?
        var interruptions = 0
        var leftBehind = 0
        for kill in 0..<20 {
            let arguments = id.map { ["resume", $0, "-j", "4"] } ?? ["run", "big", "-j", "4"]
            let before = finishedSteps()
            let process = try SluiceBinary.start(arguments, in: workspace.root)
            // Once this process has finished a step, it is killed at a random moment of the next 0.4 s.
            #expect(waitUntil { finishedSteps() > before })
            usleep(UInt32.random(in: 0...400_000, using: &generator))
            Foundation.kill(process.process.processIdentifier, SIGKILL)
            process.process.waitUntilExit()
            if id == nil { id = (try json(["runs", "--json"]) as? [[String: Any]])?.first?["id"] as? String }
            let runID = try #require(id, "kill \(kill): the run was recorded")

            // The next start (here, a status query) finds the dead run and ends what it left running.
            leftBehind += ProcessTable.processes(ofRun: runID).count
            let status = try #require(try json(["status", runID, "--json"]) as? [String: Any])
            #expect(ProcessTable.processes(ofRun: runID).isEmpty, "kill \(kill): no step process outlives the recovery")
            let state = (status["run"] as? [String: Any])?["status"] as? String
            if state == "success" { break }
            #expect(state == "interrupted", "kill \(kill): \(state ?? "?")")
            interruptions += 1
            expectConsistent(status, "kill \(kill)")
        }
        #expect(interruptions == 20, "every kill landed while the run ran")
        #expect(leftBehind > 0, "some kills left step processes running, which the next start ended")
        print("crash test: \(interruptions) interruptions, \(leftBehind) step processes left behind and ended, 0 left after recovery")

        let runID = try #require(id)
        let finished = try SluiceBinary.run(["resume", runID], in: workspace.root)
        #expect(finished.status == 0 || finished.stdout.contains("nothing to resume"), "\(finished.stderr)")
        let status = try #require(try json(["status", runID, "--json"]) as? [String: Any])
        #expect((status["run"] as? [String: Any])?["status"] as? String == "success")
        let steps = status["steps"] as? [[String: Any]] ?? []
        #expect(steps.count == 200 && steps.allSatisfy { $0["state"] as? String == "succeeded" })
        expectConsistent(status, "at the end")
        #expect(Set(try workspace.read("done.txt").split(separator: "\n")).count == 200, "every step ran at least once")
        #expect(try Python.sqlite(workspace.storePath, "PRAGMA integrity_check") == "ok")
    }

    private func finishedSteps() -> Int { ((try? workspace.read("done.txt")) ?? "").count(where: { $0 == "\n" }) }

    private func json(_ arguments: [String]) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(try SluiceBinary.run(arguments, in: workspace.root).stdout.utf8))
    }

    @Test func twoResumesAtOnceRunTheStepsOnce() async throws {
        try workspace.pipeline(
            "pair",
            """
            steps:
              - {name: first, command: 'echo first >> pair.txt'}
              - {name: second, command: 'test -f go || exit 1; until test -f release; do sleep 0.01; done; echo second >> pair.txt', depends_on: [first]}
            """)
        let failed = try await SluiceBinary.run(["run", "pair"], in: workspace.root)
        #expect(failed.status == 1)
        let id = try #require(try await workspace.store().runs(pipeline: "pair", limit: 1, offset: 0).first?.id)
        try workspace.write("go", "")
        let one = try SluiceBinary.start(["resume", id], in: workspace.root)
        let two = try SluiceBinary.start(["resume", id], in: workspace.root)
        // The step holds the run until released: the other resume must give up meanwhile.
        #expect(await waitUntil { !one.process.isRunning || !two.process.isRunning })
        try workspace.write("release", "")
        one.process.waitUntilExit()
        two.process.waitUntilExit()
        let codes = [one.process.terminationStatus, two.process.terminationStatus].sorted()
        #expect(codes == [0, 75], "one resume runs the step; the other is refused because the run is owned")
        #expect(try workspace.read("pair.txt") == "first\nsecond\n", "the resumed step ran once, the succeeded one not again")
        let attempts = try await workspace.store().attempts(runID: id).filter { $0.step == "second" }.map(\.attempt)
        #expect(attempts == [1, 2], "the resume's attempt is numbered after the first")
    }

    /// The owner's half of a cancel from another host (the API's half is in SluiceServerTests): the request in the
    /// store reaches the running `sluice run` with its next lease renewal, which stops the run as Ctrl-C would.
    @Test func aCancelRequestInTheStoreEndsTheRunCancelled() async throws {
        try workspace.pipeline(
            "hold",
            """
            steps:
              - {name: wait, command: 'touch started; until test -f release; do sleep 0.01; done'}
              - {name: after, command: 'true', depends_on: [wait]}
            """)
        let process = try SluiceBinary.start(["run", "hold"], in: workspace.root)
        #expect(await waitUntil { workspace.exists("started") })
        let store = try workspace.store()
        let id = try #require(try await store.runs(pipeline: "hold", limit: 1, offset: 0).first?.id)
        #expect(try await store.requestCancel(runID: id))
        #expect(await waitUntil(timeout: RunLease.renewalInterval * 3) { !process.process.isRunning }, "cancelled with the next renewal")
        try workspace.write("release", "")  // had the request gone unseen
        process.process.waitUntilExit()
        #expect(process.process.terminationStatus == 130)
        #expect(try await store.run(id: id)?.status == .cancelled)
        #expect(try await store.stepRuns(runID: id).map(\.state) == [.cancelled, .skipped])
    }

    /// No attempt is left running, and no step is recorded as succeeded more than once or without its attempt.
    private func expectConsistent(_ status: [String: Any], _ moment: String) {
        let attempts = status["attempts"] as? [[String: Any]] ?? []
        #expect(!attempts.contains { $0["state"] as? String == "running" }, "\(moment): no attempt still running")
        let successes = Dictionary(grouping: attempts.filter { $0["state"] as? String == "succeeded" }) { $0["step"] as? String ?? "" }
        #expect(successes.values.allSatisfy { $0.count == 1 }, "\(moment): no step succeeded twice")
        for step in status["steps"] as? [[String: Any]] ?? [] where step["state"] as? String == "succeeded" {
            #expect(successes[step["step"] as? String ?? ""]?.count == 1, "\(moment): \(step["step"] ?? "?") is recorded succeeded with its attempt")
        }
    }
}

/// `concurrency:` across Sluice processes sharing the store.
extension RunOwnershipTests {
    /// A pipeline whose step waits for `release-N` and writes N to order.txt when it starts and ends.
    private func holdingPipeline(_ name: String, _ policy: String) throws {
        try workspace.pipeline(
            name,
            """
            concurrency: \(policy)
            params: {n: {type: int, default: "0"}}
            steps:
              - {name: hold, command: 'echo "start $N" >> order.txt; until test -f release-$N; do sleep 0.01; done; echo "end $N" >> order.txt'}
            """)
    }

    @Test func rejectRefusesASecondRunWhileOneRuns() throws {
        try holdingPipeline("single", "reject")
        let first = try SluiceBinary.start(["run", "single", "-p", "n=1"], in: workspace.root)
        #expect(waitUntil { (try? workspace.read("order.txt")) == "start 1\n" })
        let second = try SluiceBinary.run(["run", "single", "-p", "n=2"], in: workspace.root)
        #expect(second.status == 75)
        #expect(second.stderr.contains("runs one run at a time (concurrency: reject)"))
        try workspace.write("release-1", "")
        first.process.waitUntilExit()
        #expect(first.process.terminationStatus == 0)
        #expect(try workspace.read("order.txt").hasPrefix("start 1\nend 1\n"), "the refused run never started a step")
    }

    @Test func queueRunsASecondRunAfterTheFirstEnds() throws {
        try holdingPipeline("serial", "queue")
        let first = try SluiceBinary.start(["run", "serial", "-p", "n=1"], in: workspace.root)
        #expect(waitUntil { (try? workspace.read("order.txt")) == "start 1\n" })
        let second = try SluiceBinary.start(["run", "serial", "-p", "n=2"], in: workspace.root)
        #expect(
            waitUntil {
                (try? JSONSerialization.jsonObject(with: Data(try SluiceBinary.run(["runs", "--json"], in: workspace.root).stdout.utf8))
                    as? [[String: Any]])?.first?["status"] as? String == "queued"
            })
        try workspace.write("release-2", "")  // the second may go as soon as it starts; it must not start yet
        try workspace.write("release-1", "")
        first.process.waitUntilExit()
        second.process.waitUntilExit()
        #expect(first.process.terminationStatus == 0 && second.process.terminationStatus == 0)
        #expect(try workspace.read("order.txt") == "start 1\nend 1\nstart 2\nend 2\n", "one after the other")
    }
}

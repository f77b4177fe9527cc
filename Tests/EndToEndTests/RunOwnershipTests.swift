import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// Who runs a run, across Sluice processes: after `kill -9` of the `sluice` process at random moments, the next
/// start finds the run, ends the step processes it left and records it interrupted, and `sluice resume` finishes it;
/// two resumes never run the same steps; `concurrency:` queues or refuses runs. Serialized (see ``CommandLineTests``).
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

    @Test func aRunKilledAtTwentyRandomPointsLosesNothingLeavesNoProcessAndResumesToTheEnd() async throws {
        var generator = SystemRandomNumberGenerator()
        var id: String?
        var interruptions = 0
        var leftBehind = 0
        for kill in 0..<20 {
            let arguments = id.map { ["resume", $0, "-j", "4"] } ?? ["run", "big", "-j", "4"]
            let process = try SluiceBinary.start(arguments, in: workspace.root)
            let pid = process.process.processIdentifier
            let store = try workspace.store()
            // Once this process owns the run, it is killed at a random moment of the next 0.4 s.
            #expect(await waitUntilAsync { try await store.runs(pipeline: "big", limit: 1, offset: 0).first?.ownerPID == pid })
            usleep(UInt32.random(in: 0...400_000, using: &generator))
            Foundation.kill(pid, SIGKILL)
            process.process.waitUntilExit()
            if id == nil { id = try await store.runs(pipeline: "big", limit: 1, offset: 0).first?.id }
            let runID = try #require(id, "kill \(kill): the run was recorded")

            // The next start (here, a status query) finds the dead run and ends what it left running.
            leftBehind += ProcessTable.processes(ofRun: runID).count
            let status = try SluiceBinary.run(["status", runID, "--json"], in: workspace.root)
            #expect(status.status == 0)
            #expect(ProcessTable.processes(ofRun: runID).isEmpty, "kill \(kill): no step process outlives the recovery")
            let run = try #require(try await store.run(id: runID))
            if run.status == .success { break }
            #expect(run.status == .interrupted, "kill \(kill): \(run.status)")
            interruptions += 1
            try await expectConsistent(store, runID, "kill \(kill)")
        }
        #expect(interruptions == 20, "every kill landed while the run ran")
        #expect(leftBehind > 0, "some kills left step processes running, which the next start ended")
        print("crash test: \(interruptions) interruptions, \(leftBehind) step processes left behind and ended, 0 left after recovery")

        let runID = try #require(id)
        let finished = try SluiceBinary.run(["resume", runID], in: workspace.root)
        #expect(finished.status == 0 || finished.stdout.contains("nothing to resume"), "\(finished.stderr)")
        let store = try workspace.store()
        #expect(try await store.run(id: runID)?.status == .success)
        let steps = try await store.stepRuns(runID: runID)
        #expect(steps.count == 200 && steps.allSatisfy { $0.state == .succeeded })
        try await expectConsistent(store, runID, "at the end")
        let done = Set(try workspace.read("done.txt").split(separator: "\n").map(String.init))
        #expect(done.count == 200, "every step ran at least once")
        #expect(try integrityCheck() == "ok")
    }

    @Test func twoResumesAtOnceRunTheStepsOnce() async throws {
        try workspace.pipeline("pair", """
            steps:
              - {name: first, command: 'echo first >> pair.txt'}
              - {name: second, command: 'test -f go || exit 1; until test -f release; do sleep 0.01; done; echo second >> pair.txt', depends_on: [first]}
            """)
        let failed = try SluiceBinary.run(["run", "pair"], in: workspace.root)
        #expect(failed.status == 1)
        let id = try #require(try await workspace.store().runs(pipeline: "pair", limit: 1, offset: 0).first?.id)
        try workspace.write("go", "")
        let one = try SluiceBinary.start(["resume", id], in: workspace.root)
        let two = try SluiceBinary.start(["resume", id], in: workspace.root)
        // The step holds the run until released: the other resume must give up meanwhile.
        #expect(waitUntil { !one.process.isRunning || !two.process.isRunning })
        try workspace.write("release", "")
        one.process.waitUntilExit()
        two.process.waitUntilExit()
        let codes = [one.process.terminationStatus, two.process.terminationStatus].sorted()
        #expect(codes == [0, 75], "one resume runs the step; the other is refused because the run is owned")
        #expect(try workspace.read("pair.txt") == "first\nsecond\n", "the resumed step ran once, the succeeded one not again")
        let attempts = try await workspace.store().attempts(runID: id).filter { $0.step == "second" }.map(\.attempt)
        #expect(attempts == [1, 2], "the resume's attempt is numbered after the first")
    }

    /// No attempt is left running, and no step is recorded as succeeded more than once or without its attempt.
    private func expectConsistent(_ store: SQLiteRunStore, _ runID: String, _ moment: String) async throws {
        let attempts = try await store.attempts(runID: runID)
        #expect(!attempts.contains { $0.state == .running }, "\(moment): no attempt still running")
        let successes = Dictionary(grouping: attempts.filter { $0.state == .succeeded }, by: \.step)
        #expect(successes.values.allSatisfy { $0.count == 1 }, "\(moment): no step succeeded twice")
        for step in try await store.stepRuns(runID: runID) where step.state == .succeeded {
            #expect(successes[step.step]?.count == 1, "\(moment): \(step.step) is recorded succeeded with its attempt")
        }
    }

    /// Polls an asynchronous condition every few milliseconds, up to 20 s.
    private func waitUntilAsync(_ condition: () async throws -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if (try? await condition()) == true { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    private func integrityCheck() throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])",
                             workspace.storePath]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// `concurrency:` across Sluice processes sharing the store.
extension RunOwnershipTests {
    /// A pipeline whose step waits for `release-N` and writes N to order.txt when it starts and ends.
    private func holdingPipeline(_ name: String, _ policy: String) throws {
        try workspace.pipeline(name, """
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
        #expect(waitUntil { (try? JSONSerialization.jsonObject(with: Data(try SluiceBinary.run(["runs", "--json"], in: workspace.root).stdout.utf8))
            as? [[String: Any]])?.first?["status"] as? String == "queued" })
        try workspace.write("release-2", "")  // the second may go as soon as it starts; it must not start yet
        try workspace.write("release-1", "")
        first.process.waitUntilExit()
        second.process.waitUntilExit()
        #expect(first.process.terminationStatus == 0 && second.process.terminationStatus == 0)
        #expect(try workspace.read("order.txt") == "start 1\nend 1\nstart 2\nend 2\n", "one after the other")
    }
}

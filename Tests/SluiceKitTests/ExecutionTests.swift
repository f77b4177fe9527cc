import Foundation
import SluiceKit
import SluiceTestSupport
import Synchronization
import Testing

/// Running steps as real processes: ordering, parallelism, failures, timeouts, retries and cancellation.
struct ExecutionTests {
    let workspace: TestWorkspace

    init() throws { workspace = try TestWorkspace() }

    @Test func independentStepsOverlapInTime() async throws {
        try workspace.pipeline(
            "p",
            """
            steps:
              - {name: left, command: sleep 1}
              - {name: right, command: sleep 1}
            """)
        let outcome = try await workspace.run("p", jobs: 2)
        let left = try #require(outcome.step("left")), right = try #require(outcome.step("right"))
        #expect(outcome.run.status == .success)
        // Each started before the other finished.
        #expect(left.startedAt! < right.finishedAt! && right.startedAt! < left.finishedAt!)
    }

    @Test func jobsBoundHowManyRunAtOnce() async throws {
        try workspace.pipeline(
            "p",
            """
            steps:
              - {name: a, command: sleep 0.3}
              - {name: b, command: sleep 0.3}
              - {name: c, command: sleep 0.3}
            """)
        let outcome = try await workspace.run("p", jobs: 1)
        let steps = outcome.steps.sorted { $0.startedAt! < $1.startedAt! }
        for (earlier, later) in zip(steps, steps.dropFirst()) { #expect(earlier.finishedAt! <= later.startedAt!) }
    }

    @Test func aStepStartsOnlyAfterItsUpstreamSucceeded() async throws {
        try workspace.pipeline(
            "p",
            """
            steps:
              - {name: first, command: sleep 0.2}
              - {name: second, command: 'true', depends_on: [first]}
            """)
        let outcome = try await workspace.run("p")
        #expect(try #require(outcome.step("first")?.finishedAt) <= #require(outcome.step("second")?.startedAt))
    }

    @Test func firstFailureStopsTheRunAndSaysWhy() async throws {
        try workspace.pipeline(
            "p",
            """
            steps:
              - {name: broken, command: 'exit 3'}
              - {name: after, command: 'true', depends_on: [broken]}
              - {name: independent, command: 'true'}
            """)
        let outcome = try await workspace.run("p", jobs: 1)
        #expect(outcome.run.status == .failed)
        #expect(outcome.step("broken")?.state == .failed)
        #expect(outcome.step("broken")?.exitCode == 3)
        #expect(outcome.step("broken")?.error == "exited with status 3")
        #expect(outcome.step("after")?.state == .skipped)
        #expect(outcome.step("after")?.reason == "trigger rule all_success: upstream step 'broken' failed")
        #expect(outcome.step("independent")?.state == .skipped)
        #expect(outcome.step("independent")?.reason?.hasPrefix("the run stopped after step 'broken' failed") == true)
    }

    @Test func continueOnErrorRunsEveryStepThatDoesNotDependOnAFailure() async throws {
        try workspace.pipeline(
            "p",
            """
            steps:
              - {name: broken, command: 'exit 1'}
              - {name: downstream, command: 'true', depends_on: [broken]}
              - {name: independent, command: sleep 0.2}
              - {name: later, command: 'true', depends_on: [independent]}
            """)
        let outcome = try await workspace.run("p", jobs: 1, continueOnError: true)
        #expect(outcome.run.status == .failed)
        #expect(outcome.step("independent")?.state == .succeeded)
        #expect(outcome.step("later")?.state == .succeeded)
        #expect(outcome.step("downstream")?.state == .skipped)
        #expect(outcome.step("downstream")?.reason == "trigger rule all_success: upstream step 'broken' failed")
    }

    @Test func allowedFailureEndsPartialSuccessAndReleasesDownstream() async throws {
        try workspace.pipeline(
            "p",
            """
            steps:
              - {name: flaky, command: 'exit 2', allow_failure: true}
              - {name: after, command: 'true', depends_on: [flaky]}
            """)
        let outcome = try await workspace.run("p")
        #expect(outcome.run.status == .partialSuccess)
        #expect(outcome.step("flaky")?.allowedFailure == true)
        #expect(outcome.step("after")?.state == .succeeded)
    }

    @Test func timeoutKillsTheStepAndItsGrandchildren() async throws {
        try workspace.pipeline(
            "p",
            """
            steps:
              - name: stuck
                timeout: 1s
                command: sleep 300 & echo $! > "$SLUICE_WORKING_DIR/grandchild.pid"; wait
            """)
        let outcome = try await workspace.run("p", gracePeriod: 1)
        let step = try #require(outcome.step("stuck"))
        #expect(step.state == .timedOut)
        #expect(step.error == "timed out after 1.0s; its process group was terminated")
        #expect(outcome.run.status == .failed)
        let pid = try #require(
            Int32(
                try workspace.read("\(outcome.run.runDirectory)/working/grandchild.pid")
                    .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(!processIsAlive(pid))
    }

    @Test func aGrandchildThatIgnoresSIGTERMIsKilledAfterTheGracePeriod() async throws {
        try workspace.pipeline(
            "p",
            """
            steps:
              - name: stubborn
                timeout: 0.5s
                command: trap '' TERM; sh -c 'trap "" TERM; sleep 300' & echo $! > "$SLUICE_WORKING_DIR/pid"; while true; do sleep 0.1; done
            """)
        let outcome = try await workspace.run("p", gracePeriod: 0.5)
        #expect(outcome.step("stubborn")?.state == .timedOut)
        let pid = try #require(Int32(try workspace.read("\(outcome.run.runDirectory)/working/pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(!processIsAlive(pid))
    }

    @Test func aDetachedDaemonThatIgnoresSIGTERMAndHoldsTheLogPipeIsEndedWithItsStep() async throws {
        try workspace.pipeline(
            "p",
            """
            steps:
              - name: daemon
                timeout: 1s
                command: setsid sh -c 'trap "" TERM; echo $$ > "$SLUICE_WORKING_DIR/daemon.pid"; while true; do echo tick; sleep 0.1; done' & sleep 300
              - {name: after, command: 'true', depends_on: [daemon], trigger_rule: all_done}
            """)
        let outcome = try await workspace.run("p", gracePeriod: 0.5)
        #expect(outcome.step("daemon")?.state == .timedOut)
        #expect(outcome.step("after")?.state == .succeeded, "the run goes on")
        let pid = try #require(
            Int32(try workspace.read("\(outcome.run.runDirectory)/working/daemon.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(!processIsAlive(pid), "the timeout ended the daemon too")
    }

    @Test func retriesRecordEveryAttemptAndStopAtSuccess() async throws {
        try workspace.pipeline(
            "p",
            """
            steps:
              - name: flaky
                retries: {count: 4, delay: 0.05s, backoff: 2}
                command: echo "attempt $SLUICE_ATTEMPT"; [ "$SLUICE_ATTEMPT" -ge 3 ]
            """)
        let outcome = try await workspace.run("p")
        #expect(outcome.run.status == .success)
        #expect(outcome.step("flaky")?.attempts == 3)
        let attempts = try await workspace.store().attempts(runID: outcome.run.id)
        #expect(attempts.map(\.state) == [.failed, .failed, .succeeded])
        #expect(attempts.map(\.exitCode) == [1, 1, 0])
        let log = try workspace.read("\(outcome.run.runDirectory)/logs/flaky.log")
        #expect(log == "attempt 1\n\n--- sluice: attempt 2 ---\nattempt 2\n\n--- sluice: attempt 3 ---\nattempt 3\n")
    }

    @Test func exhaustedRetriesFailTheStep() async throws {
        try workspace.pipeline("p", "steps:\n  - {name: never, command: 'exit 7', retries: 2}\n")
        let outcome = try await workspace.run("p")
        #expect(outcome.step("never")?.state == .failed)
        #expect(outcome.step("never")?.attempts == 3)
    }

    @Test func aStepWaitingToRetryFreesItsSlotForTheStepItWaitsFor() async throws {
        try workspace.pipeline(
            "p",
            """
            steps:
              - {name: wait, command: 'test -f made', retries: {count: 5, delay: 0.3s}}
              - {name: make, command: 'touch made'}
            """)
        let outcome = try await workspace.run("p", jobs: 1)
        #expect(outcome.run.status == .success, "with one job, 'make' ran while 'wait' waited to retry")
        #expect(outcome.step("wait")?.attempts == 2)
    }

    @Test func aCancelDuringARetryWaitEndsTheStepOnceAndStartsNothing() async throws {
        // The retry comes due at about the moment of the cancel: whichever wins, the step ends once, cancelled.
        for round in 0..<20 {
            try workspace.pipeline("p", "steps:\n  - {name: flaky, command: 'exit 1', retries: {count: 3, delay: 0.02s}}\n")
            let retried = AsyncStream.makeStream(of: Void.self)
            let events = Mutex<[RunEvent]>([])
            let run = Task {
                try await workspace.run("p") { batch in
                    events.withLock { $0 += batch }
                    if batch.contains(where: { if case .retryScheduled = $0.kind { true } else { false } }) { retried.continuation.yield() }
                }
            }
            for await _ in retried.stream { break }
            if round % 2 == 1 { try await Task.sleep(for: .milliseconds(round % 4 == 1 ? 19 : 21)) }
            run.cancel()
            let outcome = try await run.value
            #expect(outcome.run.status == .cancelled, "round \(round)")
            let finished = events.withLock { $0 }.filter { if case .stepFinished = $0.kind { true } else { false } }
            #expect(finished.count == 1, "round \(round): one stepFinished, got \(finished.count)")
            // Cancelled while it waited, or its attempt, about to fail, failed before the cancel reached it.
            #expect([.cancelled, .failed].contains(outcome.step("flaky")?.state), "round \(round)")
        }
    }

    @Test func cancellingARunTerminatesItsStepsAndRecordsCancelled() async throws {
        try workspace.pipeline(
            "p",
            """
            steps:
              - {name: long, command: 'echo $$ > "$SLUICE_WORKING_DIR/pid"; exec sleep 300'}
              - {name: never, command: 'true', depends_on: [long]}
            """)
        let started = AsyncStream.makeStream(of: Void.self)
        let run = Task {
            try await workspace.run("p", gracePeriod: 1) { events in
                if events.contains(where: { if case .attemptStarted = $0.kind { true } else { false } }) { started.continuation.yield() }
            }
        }
        for await _ in started.stream { break }
        run.cancel()
        let outcome = try await run.value
        #expect(outcome.run.status == .cancelled)
        #expect(outcome.step("long")?.state == .cancelled)
        #expect(outcome.step("never")?.state == .skipped)
        #expect(outcome.step("never")?.reason == "the run was cancelled")
        let pid = try #require(Int32(try workspace.read("\(outcome.run.runDirectory)/working/pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(!processIsAlive(pid))
    }

    @Test func aRunAServerShutdownCancelsSaysSoOnItsSteps() async throws {
        try workspace.pipeline(
            "p",
            """
            steps:
              - {name: long, command: 'touch "$SLUICE_WORKING_DIR/started"; exec sleep 300'}
              - {name: never, command: 'true', depends_on: [long]}
            """)
        let store = try workspace.store()
        let launcher = RunLauncher(runner: try workspace.runner(gracePeriod: 1))
        let request = RunRequest(pipeline: try workspace.load("p"), selection: Selection(), parameters: [:], jobs: 1)
        let record = try await launcher.start(try PipelineRunner.prepare(request))
        #expect(await waitUntil(timeout: 30) { FileManager.default.fileExists(atPath: record.runDirectory + "/working/started") })
        await launcher.shutdown(because: "the server shut down")
        let steps = try await store.stepRuns(runID: record.id)
        #expect(try await store.run(id: record.id)?.status == .cancelled)
        #expect(steps.first { $0.step == "long" }?.error == "cancelled: the server shut down")
        #expect(steps.first { $0.step == "never" }?.reason == "the run was cancelled: the server shut down")
    }

    @Test func aRunWhoseStateCannotBeRecordedIsRecordedFailedAndSaysWhy() async throws {
        try workspace.pipeline("p", "steps:\n  - {name: a, command: 'echo ran'}\n")
        let store = try workspace.store()
        // A real write failure, in the store's own SQLite file: it refuses a step's end, as a full disk would.
        let refuse = """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            db.execute("CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.kind = 'step_finished' "
                       "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
            db.commit()
            """
        #expect(try Python.run(["-c", refuse, workspace.storePath]).status == 0)
        let logged = Mutex<[String]>([])
        let launcher = RunLauncher(runner: try workspace.runner(), log: { line in logged.withLock { $0.append(line) } })
        let request = RunRequest(pipeline: try workspace.load("p"), selection: Selection(), parameters: [:], jobs: 1)
        let record = try await launcher.start(try PipelineRunner.prepare(request))
        await launcher.wait(for: record.id)
        #expect(try await store.run(id: record.id)?.status == .failed, "not left running, which would block a queue")
        let lines = logged.withLock { $0 }
        #expect(lines.count == 1 && lines[0].hasPrefix("run \(record.id) stopped:") && lines[0].contains("disk is full"), "\(lines)")
        #expect(try workspace.read("\(record.runDirectory)/run.log").contains("the run stopped: its state could not be recorded"))
    }

    /// What comes after a batch that could not be recorded is not recorded either: the run does not end `success`
    /// with a step whose end was lost. (The step after it takes half a second, so its events come in later batches.)
    @Test func nothingIsRecordedOnTopOfALostWrite() async throws {
        try workspace.pipeline("p", "steps:\n  - {name: a, command: 'true'}\n  - {name: b, command: 'sleep 0.5', depends_on: [a]}\n")
        let store = try workspace.store()
        let refuse = """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            db.execute("CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.kind = 'step_finished' AND NEW.step = 'a' "
                       "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
            db.commit()
            """
        #expect(try Python.run(["-c", refuse, workspace.storePath]).status == 0)
        let launcher = RunLauncher(runner: try workspace.runner(), log: { _ in })
        let request = RunRequest(pipeline: try workspace.load("p"), selection: Selection(), parameters: [:], jobs: 1)
        let record = try await launcher.start(try PipelineRunner.prepare(request))
        await launcher.wait(for: record.id)
        #expect(try await store.run(id: record.id)?.status == .failed)
        #expect(try await store.stepRun(runID: record.id, step: "b")?.state == .pending, "b's start and end were not recorded")
    }

    @Test func aMissingCommandFailsWithAClearError() async throws {
        try workspace.pipeline("p", "steps:\n  - {name: a, command: no-such-program-here --flag}\n")
        let outcome = try await workspace.run("p")
        #expect(outcome.step("a")?.state == .failed)
        #expect(outcome.step("a")?.error == "command not found: 'no-such-program-here' (searched PATH)")
    }

    @Test func resourceUsageIsRecorded() async throws {
        // Touched memory (a zeroed bytearray is not resident), held past a sample: this test process is bigger than the step.
        try workspace.pipeline("p", "steps:\n  - {name: a, command: python3 -c 'import time; x = b\"x\" * (64 << 20); time.sleep(0.3)'}\n")
        let outcome = try await workspace.run("p")
        let step = try #require(outcome.step("a"))
        #expect(step.state == .succeeded)
        #expect((step.peakMemoryKB ?? 0) > 64 * 1024)
        #expect((step.cpuSeconds ?? 0) > 0)
    }
}

extension ExecutionTests {
    @Test func aMissingWorkingDirectoryIsNamed() async throws {
        try workspace.pipeline("p", "workdir: nowhere\nsteps:\n  - {name: a, command: 'true'}\n")
        let outcome = try await workspace.run("p")
        #expect(outcome.step("a")?.error == "working directory \(workspace.path("nowhere")) does not exist; create it or correct 'workdir'")
    }
}

extension ExecutionTests {
    @Test func aStepInheritsOnlyTheStandardDescriptors() async throws {
        let leaked = open("/dev/null", O_RDONLY)  // not close-on-exec, as a careless parent would leave it
        defer { close(leaked) }
        try workspace.pipeline("p", "steps:\n  - {name: a, command: ls /proc/self/fd}\n")
        let outcome = try await workspace.run("p")
        let descriptors = try workspace.read("\(outcome.run.runDirectory)/logs/a.log").split(separator: "\n")
        #expect(descriptors == ["0", "1", "2", "3"], "ls itself opens one directory descriptor")
    }
}

extension ExecutionTests {
    @Test func aDaemonThatEscapedTheGroupCannotHoldTheStepOpenNorOutliveTheRun() async throws {
        // setsid puts the daemon in a session of its own, out of reach of the group kill; it keeps stdout open.
        // It writes its pid once it has escaped, and the step waits for that before it ends. The end of the run
        // finds it by the run id in its environment.
        try workspace.pipeline(
            "p",
            """
            steps:
              - name: leaves
                command: >-
                  echo before; pidfile="$SLUICE_WORKING_DIR/daemon.pid";
                  setsid sh -c 'echo $$ > "$0"; exec sleep 300' "$pidfile" &
                  while [ ! -s "$pidfile" ]; do sleep 0.01; done; echo after
              - {name: next, command: 'true', depends_on: [leaves]}
            """)
        let outcome = try await workspace.run("p")
        let pid = try #require(
            Int32(try workspace.read("\(outcome.run.runDirectory)/working/daemon.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(outcome.run.status == .success)
        #expect(!processIsAlive(pid), "nothing a step started outlives its run")
        #expect(try workspace.read("\(outcome.run.runDirectory)/logs/leaves.log") == "before\nafter\n")
    }
}

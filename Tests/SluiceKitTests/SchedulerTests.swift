import Foundation
import SluiceTestSupport
import Testing

@testable import SluiceKit

/// The scheduler carrying out its state machine's decisions on an executor, here the scripted one (no process: these
/// tests are about the engine's threads, its events' order and its cancels; `ExecutionTests` runs real processes).
@Suite(.timeLimit(.minutes(1)))
struct SchedulerTests {
    let workspace: TestWorkspace

    init() throws { workspace = try TestWorkspace() }

    /// A scheduler for pipeline `p` of `steps`, and the events it emits, as they come.
    func scheduler(_ steps: String, executor: ScriptedExecutor, jobs: Int = 2) throws -> (Scheduler, AsyncStream<RunEvent>) {
        try workspace.pipeline("p", "steps:\n" + steps.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        let pipeline = try workspace.load("p")
        let directory = RunDirectory(root: workspace.path("runs/r1"))
        let context = RunContext(runID: "r1", pipeline: pipeline, workspace: workspace.root, directory: directory, parameters: [:])
        let (events, continuation) = AsyncStream.makeStream(of: RunEvent.self)
        let scheduler = Scheduler(
            plan: try Planner.plan(pipeline), context: context, executor: executor, tracker: nil,
            options: .init(jobs: jobs, continueOnError: false), emit: { continuation.yield($0) })
        return (scheduler, events)
    }

    @Test func eachStepsEventsComeInOrderAndAStepStartsAfterItsUpstreamStepsFinished() async throws {
        let executor = ScriptedExecutor(["b": [.fail, .fail]])
        let (scheduler, events) = try scheduler(
            """
            - {name: a, command: x}
            - {name: b, command: x, depends_on: [a], allow_failure: true, retries: {count: 1, delay: 0s}}
            - {name: c, command: x, depends_on: [a]}
            - {name: d, command: x, depends_on: [b, c]}
            """, executor: executor)
        let outcomes = await scheduler.run()
        #expect(outcomes.mapValues(\.state) == ["a": .succeeded, "b": .failed, "c": .succeeded, "d": .succeeded])
        #expect(outcomes["b"]?.allowed == true)
        #expect(Set(executor.started) == ["a#1", "b#1", "b#2", "c#1", "d#1"])

        var said: [String] = []
        for await event in events {
            switch event.kind {
            case let .attemptStarted(step, attempt, _): said.append("start \(step)#\(attempt)")
            case let .attemptFinished(step, attempt, _): said.append("end \(step)#\(attempt)")
            case let .retryScheduled(step, attempt, _): said.append("retry \(step)#\(attempt)")
            case let .stepFinished(step, _, _, _, _): said.append("finish \(step)")
            default: break
            }
            if said.count == 15 { break }
        }
        func before(_ first: String, _ second: String) -> Bool {
            guard let one = said.firstIndex(of: first), let two = said.firstIndex(of: second) else { return false }
            return one < two
        }
        for step in ["a", "c", "d"] {
            #expect(before("start \(step)#1", "end \(step)#1") && before("end \(step)#1", "finish \(step)"), "\(said)")
        }
        #expect(before("end b#1", "retry b#2") && before("retry b#2", "start b#2") && before("end b#2", "finish b"), "\(said)")
        #expect(before("finish a", "start b#1") && before("finish a", "start c#1"), "\(said)")
        #expect(before("finish b", "start d#1") && before("finish c", "start d#1"), "\(said)")
    }

    @Test func aCancelDuringARetrysDelayEndsTheRunAtOnceAndTheRetryNeverStarts() async throws {
        let executor = ScriptedExecutor(["a": [.fail]])
        let (scheduler, events) = try scheduler(
            """
            - {name: a, command: x, retries: {count: 3, delay: 1h}}
            - {name: b, command: x, depends_on: [a]}
            """, executor: executor)
        async let outcomes = scheduler.run()
        for await event in events { if case .retryScheduled = event.kind { break } }
        scheduler.cancel(why: "the test asked")
        let final = await outcomes
        #expect(final.mapValues(\.state) == ["a": .cancelled, "b": .skipped])
        #expect(executor.started == ["a#1"])
        var reasons: [String] = []
        for await event in events {
            if case let .stepFinished(_, _, _, _, result) = event.kind { reasons.append(result.error ?? "") }
            if case let .stepSkipped(_, reason) = event.kind {
                reasons.append(reason)
                break
            }
        }
        #expect(reasons == ["cancelled while waiting to retry: the test asked", "the run was cancelled: the test asked"])
    }

    @Test func cancellingTheRunsTaskStopsARunningAttemptAndSkipsTheRest() async throws {
        let executor = ScriptedExecutor(["a": [.hang]])
        let (scheduler, events) = try scheduler(
            """
            - {name: a, command: x}
            - {name: b, command: x, depends_on: [a]}
            - {name: clean, command: x, depends_on: [a], trigger_rule: all_done}
            """, executor: executor)
        let run = Task { await scheduler.run() }
        for await event in events { if case .attemptStarted = event.kind { break } }
        run.cancel()
        let outcomes = await run.value
        #expect(outcomes.mapValues(\.state) == ["a": .cancelled, "b": .skipped, "clean": .skipped])
        #expect(scheduler.isCancelled)
        #expect(executor.started == ["a#1"], "a cancelled run starts no clean-up")
    }

    @Test func aRecoveryScriptRunsOnTheExecutorAndARecoveredStepLetsItsDownstreamRun() async throws {
        try workspace.script("p", "heal.sh", "true")
        let executor = ScriptedExecutor(["a": [.timeOut]])
        let (scheduler, _) = try scheduler(
            """
            - {name: a, command: x, on_failure: {run: heal.sh}}
            - {name: load, command: x, depends_on: [a], trigger_rule: recovered}
            """, executor: executor)
        let outcomes = await scheduler.run()
        #expect(outcomes.mapValues(\.state) == ["a": .timedOut, "load": .succeeded])
        #expect(outcomes["a"]?.recovered == true)
        #expect(executor.started == ["a#1", "a.recovery", "load#1"])
    }
}

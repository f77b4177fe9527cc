import Foundation
import Synchronization

/// Runs the included steps of a plan in dependency order, up to `jobs` at once.
///
/// Event-driven: each step counts its unfinished upstream steps and becomes ready when the count reaches zero.
/// The work happens in the executor's completion callbacks: the thread that sees a step end starts the steps it
/// released. No task per step, no polling loop, no rescans.
final class Scheduler: Sendable {
    struct Options: Sendable {
        var jobs: Int
        var continueOnError: Bool
    }

    /// The final state of one step of the run.
    struct StepOutcome: Sendable {
        var state: StepState
        var allowed: Bool
    }

    /// A step that is running, or waiting to be started again after a failed attempt.
    private struct Active {
        var attempt: (any RunningAttempt)?
        var waitingToRetry = false
        var attempts = 0
    }

    private struct State {
        var waiting: [Int]
        var ready: ReadyQueue
        var active: [Int: Active] = [:]
        var outcomes: [String: StepOutcome] = [:]
        var blockedBy: [Int: String] = [:]
        var stoppedBy: String?
        var cancelled = false
        var finished = false
        var continuation: CheckedContinuation<[String: StepOutcome], Never>?
    }

    private let plan: Plan
    private let context: RunContext
    private let executor: any StepExecutor
    private let options: Options
    private let emit: @Sendable (RunEvent) -> Void
    private let included: Set<Int>
    private let state: Mutex<State>

    init(plan: Plan, context: RunContext, executor: any StepExecutor, options: Options, emit: @escaping @Sendable (RunEvent) -> Void) {
        self.plan = plan
        self.context = context
        self.executor = executor
        self.options = options
        self.emit = emit
        let included = Set(plan.included.map(\.index))
        self.included = included
        // Upstream steps outside the selection count as done: the user chose not to run them.
        var waiting = [Int](repeating: 0, count: plan.graph.count)
        for index in included { waiting[index] = plan.graph.upstream[index].count(where: included.contains) }
        state = Mutex(State(waiting: waiting, ready: ReadyQueue(plan.included.map(\.index).filter { waiting[$0] == 0 })))
    }

    /// Runs to the end, or until the calling task is cancelled, and returns every included step's final state.
    func run() async -> [String: StepOutcome] {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                state.withLock { $0.continuation = continuation }
                // Spawning blocks for a fraction of a millisecond: not on the cooperative pool.
                DispatchQueue.global().async { self.startReady() }
            }
        } onCancel: {
            cancel()
        }
    }

    private func startReady() {
        let jobs = max(1, options.jobs)
        let starting = state.withLock { state -> [Int] in
            var starting: [Int] = []
            while state.active.count < jobs, state.stoppedBy == nil, let index = state.ready.pop() {
                state.active[index] = Active()
                starting.append(index)
            }
            return starting
        }
        for index in starting { launch(index, attempt: 1) }
        finishIfDone()
    }

    private func launch(_ index: Int, attempt: Int) {
        let step = plan.pipeline.steps[index]
        let running = executor.start(context.launchSpec(for: step).forAttempt(attempt), timeout: step.timeout, onStart: { [self] pid in
            emit(event(.attemptStarted(step: step.name, attempt: attempt, pid: pid)))
        }, completion: { [self] result in
            attemptEnded(index, attempt: attempt, result: result)
        })
        let cancelNow = state.withLock { state -> Bool in
            guard state.active[index] != nil, !state.active[index]!.waitingToRetry else { return false }
            state.active[index]!.attempt = running
            return state.cancelled
        }
        if cancelNow { running.cancel() }
    }

    private func attemptEnded(_ index: Int, attempt: Int, result: AttemptResult) {
        let step = plan.pipeline.steps[index]
        emit(event(.attemptFinished(step: step.name, attempt: attempt, result: result)))
        let retry = result.state != .succeeded && result.state != .cancelled && attempt <= step.retry.retries
            && state.withLock { state in
                guard !state.cancelled else { return false }
                state.active[index] = Active(attempt: nil, waitingToRetry: true, attempts: attempt)
                return true
            }
        guard retry else { return stepEnded(index, attempts: attempt, result: result) }
        let delay = step.retry.delay(beforeAttempt: attempt + 1)
        emit(event(.retryScheduled(step: step.name, attempt: attempt + 1, delay: delay)))
        DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [self] in
            let stillWaiting = state.withLock { state -> Bool in
                guard state.active[index]?.waitingToRetry == true else { return false }
                state.active[index]!.waitingToRetry = false
                return true
            }
            if stillWaiting { launch(index, attempt: attempt + 1) }
        }
    }

    private func stepEnded(_ index: Int, attempts: Int, result: AttemptResult) {
        let step = plan.pipeline.steps[index]
        let allowed = step.allowFailure && result.state != .succeeded && result.state != .cancelled
        emit(event(.stepFinished(step: step.name, state: result.state, attempts: attempts, allowed: allowed, result: result)))
        let graph = plan.graph
        state.withLock { state in
            state.active[index] = nil
            state.outcomes[step.name] = StepOutcome(state: result.state, allowed: allowed)
            let ended = result.state.rawValue.replacingOccurrences(of: "_", with: " ")
            if result.state == .succeeded || allowed {
                for next in graph.downstream[index] where included.contains(next) {
                    state.waiting[next] -= 1
                    if state.waiting[next] == 0, state.blockedBy[next] == nil { state.ready.push(next) }
                }
            } else if result.state == .cancelled || state.cancelled {
                state.stoppedBy = state.stoppedBy ?? "the run was cancelled"
            } else if options.continueOnError {
                for next in graph.descendants(of: [index]) where included.contains(next) && state.blockedBy[next] == nil {
                    state.blockedBy[next] = "upstream step '\(step.name)' \(ended)"
                }
            } else {
                state.stoppedBy = state.stoppedBy
                    ?? "the run stopped after step '\(step.name)' \(ended) (--continue-on-error runs independent steps)"
            }
        }
        startReady()
    }

    /// Stops the run: no new steps start, running ones are terminated, waiting retries are given up.
    private func cancel() {
        let (running, retrying) = state.withLock { state in
            state.cancelled = true
            state.stoppedBy = state.stoppedBy ?? "the run was cancelled"
            return (state.active.values.compactMap(\.attempt), state.active.filter(\.value.waitingToRetry).map { ($0.key, $0.value.attempts) })
        }
        for attempt in running { attempt.cancel() }
        for (index, attempts) in retrying where state.withLock({ $0.active[index]?.waitingToRetry == true }) {
            var result = AttemptResult.notStarted(at: Date(), error: "cancelled while waiting to retry")
            result.state = .cancelled
            stepEnded(index, attempts: attempts, result: result)
        }
        finishIfDone()
    }

    /// Once nothing runs and nothing more can start: the steps left over are skipped, with the reason, and
    /// `run()` returns.
    private func finishIfDone() {
        let done = state.withLock { state -> (CheckedContinuation<[String: StepOutcome], Never>, [(String, String)], [String: StepOutcome])? in
            guard !state.finished, let continuation = state.continuation, state.active.isEmpty,
                  state.ready.isEmpty || state.stoppedBy != nil else { return nil }
            state.finished = true
            var skipped: [(String, String)] = []
            for entry in plan.included where state.outcomes[entry.step.name] == nil {
                skipped.append((entry.step.name, state.blockedBy[entry.index] ?? state.stoppedBy ?? "not started"))
                state.outcomes[entry.step.name] = StepOutcome(state: .skipped, allowed: false)
            }
            return (continuation, skipped, state.outcomes)
        }
        guard let (continuation, skipped, outcomes) = done else { return }
        for (step, reason) in skipped { emit(event(.stepSkipped(step: step, reason: reason))) }
        continuation.resume(returning: outcomes)
    }

    private func event(_ kind: RunEvent.Kind) -> RunEvent {
        RunEvent(runID: context.runID, pipeline: plan.pipeline.id, kind: kind)
    }
}

/// A first-in first-out queue of step indices with O(1) pops.
private struct ReadyQueue {
    private var items: [Int]
    private var head = 0

    init(_ items: [Int]) { self.items = items }

    var isEmpty: Bool { head == items.count }

    mutating func push(_ item: Int) { items.append(item) }

    mutating func pop() -> Int? {
        guard head < items.count else { return nil }
        defer { head += 1 }
        return items[head]
    }
}

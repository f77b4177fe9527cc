import Foundation
import Synchronization

/// Runs the included steps of a plan in dependency order, up to `jobs` at once.
///
/// Event-driven: each step counts its unfinished upstream steps; when the count reaches zero its trigger rule
/// decides, from how they ended, whether it runs or is skipped. The work happens in the executor's completion
/// callbacks: the thread that sees a step end starts the steps it released. No task per step, no polling loop,
/// no rescans. Hashing, versioning and recovery run on dispatch threads, off the process monitor's.
final class Scheduler: Sendable {
    struct Options: Sendable {
        var jobs: Int
        var continueOnError: Bool
        /// Attempts each step already made in this run (a resumed run): its attempts here are numbered after them.
        var attemptsBefore: [String: Int] = [:]
    }

    /// The final state of one step of the run.
    struct StepOutcome: Sendable {
        var state: StepState
        /// A failure that `allow_failure` tolerates.
        var allowed = false
        /// A failure whose `on_failure` recovery succeeded.
        var recovered = false
        /// Skipped because of a failure upstream (rather than a trigger rule with nothing to do).
        var skippedByFailure = false

        /// Counts as success for `all_success` downstream steps.
        var isSuccess: Bool { state.isSuccess || allowed }
    }

    /// A step that is being prepared, running, recovering, or waiting to be started again after a failed attempt.
    private struct Active {
        var attempt: (any RunningAttempt)?
        /// Its retry's delay is running: it holds no job slot meanwhile.
        var waitingToRetry = false
        var attempts = 0
        var fingerprint: StepFingerprint?
    }

    private struct State {
        var waiting: [Int]
        var ready: ReadyQueue
        var active: [Int: Active] = [:]
        /// Steps of `active` that hold no job slot: waiting out a retry's delay, or due for it and waiting for a slot.
        var idle = 0
        /// Steps whose retry is due, first come first served, ahead of steps not started yet.
        var due: [Int] = []
        var outcomes: [Int: StepOutcome] = [:]
        var stoppedBy: String?
        var cancelled = false
        /// Why it was cancelled, when the canceller said (the server shut down).
        var cancelledBecause: String?
        var finished = false
        var continuation: CheckedContinuation<[String: StepOutcome], Never>?
    }

    private let plan: Plan
    private let context: RunContext
    private let executor: any StepExecutor
    private let tracker: OutputTracker?
    private let options: Options
    private let emit: @Sendable (RunEvent) -> Void
    private let included: Set<Int>
    private let state: Mutex<State>

    init(
        plan: Plan, context: RunContext, executor: any StepExecutor, tracker: OutputTracker?, options: Options,
        emit: @escaping @Sendable (RunEvent) -> Void
    ) {
        self.plan = plan
        self.context = context
        self.executor = executor
        self.tracker = tracker
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
            cancel(why: CancelReasons.take(context.runID))
        }
    }

    private func startReady() {
        let jobs = max(1, options.jobs)
        let (starting, retrying, skipped) = state.withLock { state -> ([Int], [(Int, Int)], [(Int, String)]) in
            var starting: [Int] = []
            var retrying: [(Int, Int)] = []
            var skipped: [(Int, String)] = []
            while state.active.count - state.idle < jobs, !state.cancelled, !state.due.isEmpty {
                let index = state.due.removeFirst()
                state.idle -= 1
                retrying.append((index, state.active[index]!.attempts + 1))
            }
            while state.active.count - state.idle < jobs, let index = state.ready.pop() {
                // A stopped run still runs the steps meant for failures (alerts, clean-up); a cancelled one runs nothing.
                if let stop = state.stoppedBy, state.cancelled || ![.oneFailed, .allDone].contains(plan.pipeline.steps[index].triggerRule) {
                    skipped += resolve(index, StepOutcome(state: .skipped, skippedByFailure: !state.cancelled), reason: stop, in: &state)
                    continue
                }
                state.active[index] = Active()
                starting.append(index)
            }
            return (starting, retrying, skipped)
        }
        emitSkipped(skipped)
        for (index, attempt) in retrying { launch(index, attempt: attempt) }
        for index in starting { begin(index) }
        finishIfDone()
    }

    /// Starts a step's first attempt, unless its declared outputs are up to date.
    private func begin(_ index: Int) {
        let step = plan.pipeline.steps[index]
        guard let tracker, !step.outputs.isEmpty else { return launch(index, attempt: 1) }
        DispatchQueue.global().async { [self] in
            let decision: OutputTracker.Decision
            do { decision = try tracker.decide(step) } catch {
                return stepEnded(index, attempts: 0, result: .notStarted(at: Date(), error: "cannot check its inputs: \(error)"))
            }
            emitHashes()
            switch decision {
            case let .upToDate(reason):
                emit(event(.stepUpToDate(step: step.name, reason: reason)))
                settle(index, StepOutcome(state: .upToDate))
            case let .run(fingerprint, _):
                state.withLock { $0.active[index]?.fingerprint = fingerprint }
                launch(index, attempt: 1)
            }
        }
    }

    /// The number an attempt is recorded under: this run's attempt, after those of an earlier, interrupted go.
    private func recorded(_ attempt: Int, of step: Step) -> Int { attempt + (options.attemptsBefore[step.name] ?? 0) }

    private func launch(_ index: Int, attempt: Int) {
        let step = plan.pipeline.steps[index]
        let number = recorded(attempt, of: step)
        let running = executor.start(
            context.launchSpec(for: step).forAttempt(number), timeout: step.timeout,
            onStart: { [self] pid in
                emit(event(.attemptStarted(step: step.name, attempt: number, pid: pid)))
            },
            completion: { [self] result in
                attemptEnded(index, attempt: attempt, result: result)
            })
        track(running, of: index)
    }

    /// Remembers a started process so that a cancel reaches it; cancels it at once if the run was cancelled meanwhile.
    private func track(_ running: any RunningAttempt, of index: Int) {
        let cancelNow = state.withLock { state -> Bool in
            guard state.active[index] != nil, !state.active[index]!.waitingToRetry else { return false }
            state.active[index]!.attempt = running
            return state.cancelled
        }
        if cancelNow { running.cancel() }
    }

    private func attemptEnded(_ index: Int, attempt: Int, result: AttemptResult) {
        let step = plan.pipeline.steps[index]
        if result.state == .timedOut {
            // Its process group is gone; a daemon it detached (setsid) is not, and may hold the log pipe open.
            // (A cancel ends the run, whose end sweeps every such process.)
            let runID = context.runID
            DispatchQueue.global().async { ProcessTable.endLeftovers(ofRun: runID, step: step.name) }
        }
        emit(event(.attemptFinished(step: step.name, attempt: recorded(attempt, of: step), result: result)))
        let retry =
            result.state != .succeeded && result.state != .cancelled && attempt <= step.retry.retries
            && state.withLock { state in
                guard !state.cancelled else { return false }
                state.active[index]!.attempt = nil
                state.active[index]!.waitingToRetry = true
                state.active[index]!.attempts = attempt
                state.idle += 1
                return true
            }
        guard retry else { return stepEnded(index, attempts: attempt, result: result) }
        let delay = step.retry.delay(beforeAttempt: attempt + 1)
        emit(event(.retryScheduled(step: step.name, attempt: recorded(attempt + 1, of: step), delay: delay)))
        DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [self] in
            // Under the lock that cancel() takes: either the retry is due, or the cancel ended the step; never both.
            let due = state.withLock { state -> Bool in
                guard !state.cancelled, state.active[index]?.waitingToRetry == true else { return false }
                state.active[index]!.waitingToRetry = false
                state.due.append(index)
                return true
            }
            if due { startReady() }
        }
        // The slot it held is free for the delay: a step it waits for (a file another step writes) can run meanwhile.
        startReady()
    }

    /// A step's last attempt ended: its outputs are versioned on success, recovered on failure.
    private func stepEnded(_ index: Int, attempts: Int, result: AttemptResult) {
        let step = plan.pipeline.steps[index]
        let fingerprint = state.withLock { $0.active[index]?.fingerprint }
        if result.state == .succeeded, let tracker, let fingerprint {
            return DispatchQueue.global().async { [self] in
                var result = result
                do {
                    let recorded = try tracker.recordSuccess(of: step, fingerprint: fingerprint, runID: context.runID)
                    emitHashes()
                    emit(event(.outputsRecorded(step: step.name, record: recorded.record, newVersions: recorded.newVersions)))
                } catch {
                    result.state = .failed
                    result.error = "its outputs could not be versioned: \(error)"
                    return recover(index, attempts: attempts, result: result)
                }
                finish(index, attempts: attempts, result: result)
            }
        }
        if result.state.isFailure, step.onFailure != nil, !state.withLock({ $0.cancelled }) {
            return DispatchQueue.global().async { [self] in recover(index, attempts: attempts, result: result) }
        }
        finish(index, attempts: attempts, result: result)
    }

    /// Runs the step's `on_failure` action, records it, and settles the step.
    private func recover(_ index: Int, attempts: Int, result: AttemptResult) {
        let step = plan.pipeline.steps[index]
        let done: @Sendable (RecoveryAction) -> Void = { [self] action in
            emit(event(.recoveryFinished(step: step.name, action: action)))
            finish(index, attempts: attempts, result: result, recovered: action.succeeded)
        }
        switch step.onFailure {
        case .rollback?:
            guard let tracker else { return finish(index, attempts: attempts, result: result) }
            done(tracker.rollback(step))
        case let .run(script)?:
            let running = executor.start(
                context.launchSpec(for: step, action: .script(path: script), logSuffix: "recovery"),
                timeout: step.timeout, onStart: { _ in },
                completion: { healing in
                    let ok = healing.state == .succeeded
                    done(
                        RecoveryAction(
                            kind: .healingScript, target: script, status: ok ? .success : .failed,
                            message: ok ? "\(script) succeeded" : "\(script) \(healing.error ?? "failed")", at: Date()))
                })
            track(running, of: index)
        case nil:
            finish(index, attempts: attempts, result: result)
        }
    }

    private func finish(_ index: Int, attempts: Int, result: AttemptResult, recovered: Bool = false) {
        let step = plan.pipeline.steps[index]
        var result = result
        // A step the run's cancel stopped says why, when the canceller said (the server shut down, a user asked).
        if result.state == .cancelled, let why = state.withLock({ $0.cancelled ? $0.cancelledBecause : nil }) {
            result.error = "\(result.error ?? "cancelled"): \(why)"
        }
        let allowed = step.allowFailure && result.state != .succeeded && result.state != .cancelled
        emit(event(.stepFinished(step: step.name, state: result.state, attempts: recorded(attempts, of: step), allowed: allowed, result: result)))
        settle(index, StepOutcome(state: result.state, allowed: allowed, recovered: recovered))
    }

    /// Records a step's final outcome, releases or skips its downstream steps, and starts what became ready.
    private func settle(_ index: Int, _ outcome: StepOutcome) {
        let step = plan.pipeline.steps[index]
        let skipped = state.withLock { state in
            state.active[index] = nil
            if outcome.state == .cancelled || (state.cancelled && !outcome.isSuccess) {
                state.stoppedBy = state.stoppedBy ?? "the run was cancelled"
            } else if !outcome.isSuccess && !outcome.recovered && !options.continueOnError {
                let ended = outcome.state.rawValue.replacingOccurrences(of: "_", with: " ")
                state.stoppedBy =
                    state.stoppedBy
                    ?? "the run stopped after step '\(step.name)' \(ended) (--continue-on-error runs independent steps)"
            }
            return resolve(index, outcome, reason: nil, in: &state)
        }
        emitSkipped(skipped)
        startReady()
    }

    /// Sets `index`'s outcome and counts it off its downstream steps; those whose count reaches zero are queued or,
    /// when their trigger rule says so, skipped in turn. Returns the skipped steps with their reasons.
    private func resolve(_ index: Int, _ outcome: StepOutcome, reason: String?, in state: inout State) -> [(Int, String)] {
        var skipped: [(Int, String)] = []
        var work = [(index, outcome, reason)]
        while let (current, outcome, reason) = work.popLast() {
            state.outcomes[current] = outcome
            if let reason { skipped.append((current, reason)) }
            for next in plan.graph.downstream[current] where included.contains(next) {
                state.waiting[next] -= 1
                guard state.waiting[next] == 0 else { continue }
                if let (why, byFailure) = skipReason(next, state.outcomes, stoppedBy: state.stoppedBy) {
                    work.append((next, StepOutcome(state: .skipped, skippedByFailure: byFailure), why))
                } else {
                    state.ready.push(next)
                }
            }
        }
        return skipped
    }

    /// Why the trigger rule of `index` skips it, given its upstream outcomes; nil when it runs.
    private func skipReason(_ index: Int, _ outcomes: [Int: StepOutcome], stoppedBy: String?) -> (String, Bool)? {
        let step = plan.pipeline.steps[index]
        let upstream = plan.graph.upstream[index].filter(included.contains).map { (plan.pipeline.steps[$0].name, outcomes[$0]!) }
        let rule = "trigger rule \(step.triggerRule.rawValue)"
        if upstream.contains(where: { $0.1.state == .cancelled }) { return (stoppedBy ?? "the run was cancelled", false) }
        func describe(_ outcome: StepOutcome) -> String {
            outcome.state == .skipped ? "was skipped" : outcome.state.rawValue.replacingOccurrences(of: "_", with: " ")
        }
        func blocking(_ name: String, _ outcome: StepOutcome, _ detail: String = "") -> (String, Bool) {
            ("\(rule): upstream step '\(name)' \(describe(outcome))\(detail)", outcome.state.isFailure || outcome.skippedByFailure)
        }
        switch step.triggerRule {
        case .allSuccess:
            return upstream.first { !$0.1.isSuccess }.map { blocking($0.0, $0.1) }
        case .recovered:
            return upstream.first { !$0.1.isSuccess && !$0.1.recovered }.map { name, outcome in
                blocking(name, outcome, outcome.state.isFailure ? " and was not recovered" : "")
            }
        case .allDone:
            return nil
        case .oneFailed:
            return upstream.contains { $0.1.state.isFailure } ? nil : ("\(rule): no upstream step failed", false)
        }
    }

    /// Whether the run was cancelled (by its task, or by ``cancel()``).
    var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Stops the run: no new steps start, running ones are terminated, waiting retries are given up. Cancelling the
    /// task that runs ``run()`` does this; a cancel asked for through the store calls it directly.
    /// `why`, when given, is said after "the run was cancelled" by every step the cancel stops or skips.
    func cancel(why: String? = nil) {
        let (running, retrying) = state.withLock { state in
            state.cancelled = true
            state.cancelledBecause = state.cancelledBecause ?? why
            state.stoppedBy = state.stoppedBy ?? (["the run was cancelled"] + [why].compactMap { $0 }).joined(separator: ": ")
            // Claimed here, under the lock a due retry takes too: no retry starts for a step this cancel ends.
            let retrying = state.active.filter { $0.value.waitingToRetry || state.due.contains($0.key) }.map { ($0.key, $0.value.attempts) }
            for (index, _) in retrying { state.active[index]!.waitingToRetry = false }
            state.idle -= retrying.count
            state.due = []
            return (state.active.values.compactMap(\.attempt), retrying)
        }
        for attempt in running { attempt.cancel() }
        for (index, attempts) in retrying {
            var result = AttemptResult.notStarted(at: Date(), error: "cancelled while waiting to retry")
            result.state = .cancelled
            stepEnded(index, attempts: attempts, result: result)
        }
        // Steps still queued are skipped there, and the run ends once nothing runs.
        startReady()
    }

    /// Once nothing runs and nothing more can start: the steps left over are skipped, with the reason, and
    /// `run()` returns.
    private func finishIfDone() {
        let done = state.withLock { state -> (CheckedContinuation<[String: StepOutcome], Never>, [(Int, String)], [String: StepOutcome])? in
            guard !state.finished, let continuation = state.continuation, state.active.isEmpty, state.ready.isEmpty else { return nil }
            state.finished = true
            var skipped: [(Int, String)] = []
            for entry in plan.included where state.outcomes[entry.index] == nil {
                skipped.append((entry.index, state.stoppedBy ?? "not started"))
                state.outcomes[entry.index] = StepOutcome(state: .skipped, skippedByFailure: !state.cancelled)
            }
            let byName = Dictionary(uniqueKeysWithValues: state.outcomes.map { (plan.pipeline.steps[$0.key].name, $0.value) })
            return (continuation, skipped, byName)
        }
        guard let (continuation, skipped, outcomes) = done else { return }
        emitSkipped(skipped)
        continuation.resume(returning: outcomes)
    }

    private func emitSkipped(_ skipped: [(Int, String)]) {
        for (index, reason) in skipped { emit(event(.stepSkipped(step: plan.pipeline.steps[index].name, reason: reason))) }
    }

    /// Hands newly computed file hashes to the store, so later runs need not read those files again.
    private func emitHashes() {
        guard let fresh = tracker?.hasher.takeFresh(), !fresh.isEmpty else { return }
        emit(event(.filesHashed(fresh)))
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

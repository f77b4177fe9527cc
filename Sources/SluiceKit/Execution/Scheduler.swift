import Foundation
import Synchronization

/// Runs the included steps of a plan in dependency order, up to `jobs` at once.
///
/// ``SchedulerStateMachine`` decides; this class holds it under a lock and carries out what it decides: it starts
/// attempts on the executor, checks and versions outputs, runs recoveries, waits out retry delays and emits events.
/// Event-driven: the thread that sees a step end starts the steps it released. No task per step, no polling loop.
/// Hashing, versioning and recovery run on dispatch threads, off the process monitor's.
final class Scheduler: Sendable {
    typealias Options = SchedulerStateMachine.Options
    private typealias Action = SchedulerStateMachine.Action

    private struct State {
        var machine: SchedulerStateMachine
        var continuation: CheckedContinuation<[String: StepOutcome], Never>?
    }

    private let pipelineID: String
    private let context: RunContext
    private let executor: any StepExecutor
    private let tracker: OutputTracker?
    private let emit: @Sendable (RunEvent) -> Void
    private let state: Mutex<State>
    /// Where pool slots are taken, and the queue of its own those blocking calls are made on, in order: a slot given
    /// back before one is asked for is free for it.
    private let pools: (any RunStore)?
    private let poolCalls = DispatchQueue(label: "sluice.pools")
    /// Removes temporary outputs once their readers have succeeded, when a step of the run has some.
    private let remover: TemporaryOutputRemover?
    /// How long a step whose pool is full waits before asking again; a slot this run gives back wakes it at once.
    static let poolPollInterval = 0.25

    /// `options.checksOutputs` is set from `tracker`. `emit` is called under the scheduler's lock, so that events
    /// come out in the order the machine decided them: it must return at once and not call back.
    init(
        plan: Plan, context: RunContext, executor: any StepExecutor, tracker: OutputTracker?, options: Options,
        pools: (any RunStore)? = nil, emit: @escaping @Sendable (RunEvent) -> Void
    ) {
        pipelineID = plan.pipeline.id
        self.pools = pools
        remover = tracker.flatMap { tracker in
            plan.pipeline.steps.contains { !$0.temporaryOutputs.isEmpty }
                ? TemporaryOutputRemover(
                    workspace: tracker.workspace, temporary: tracker.temporary, included: Set(plan.included.map(\.step.name)),
                    succeededBefore: Set(options.statesBefore.filter(\.value.isSuccess).keys))
                : nil
        }
        self.context = context
        self.executor = executor
        self.tracker = tracker
        self.emit = emit
        var options = options
        options.checksOutputs = tracker != nil
        let pipeline = plan.pipeline
        options.queuedElsewhere = { [executor] in executor.queuesItself(pipeline.placement(of: $0)) }
        options.runsHere = { [executor] in executor.runsHere(pipeline.placement(of: $0)) }
        state = Mutex(State(machine: SchedulerStateMachine(plan: plan, options: options)))
    }

    /// Runs to the end, or until the calling task is cancelled, and returns every included step's final state.
    func run() async -> [String: StepOutcome] {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                state.withLock { $0.continuation = continuation }
                // Spawning blocks for a fraction of a millisecond: not on the cooperative pool.
                DispatchQueue.global().async { self.handle { $0.start() } }
            }
        } onCancel: {
            cancel(why: CancelReasons.take(context.runID))
        }
    }

    /// Whether the run was cancelled (by its task, or by ``cancel(why:)``).
    var isCancelled: Bool { state.withLock { $0.machine.isCancelled } }

    /// Stops the run: no new steps start, running ones are terminated, waiting retries are given up. Cancelling the
    /// task that runs ``run()`` does this; a cancel asked for through the store calls it directly.
    /// `why`, when given, is said after "the run was cancelled" by every step the cancel stops or skips.
    func cancel(why: String? = nil) {
        handle { $0.cancel(why: why, at: Date()) }
    }

    /// Gives the machine an event, emits what it says under the lock, then carries out the rest, starting the attempts
    /// it starts together (a fan-out's instances can go to Slurm as one job array).
    private func handle(_ event: (inout SchedulerStateMachine) -> [Action]) {
        let (actions, finished, steps, elsewhere) = state.withLock { state in
            let actions = event(&state.machine)
            // The steps the actions concern, as the machine has them (it adds instances at run time).
            var steps: [Int: Step] = [:]
            var elsewhere: Set<Int> = []
            for action in actions {
                switch action {
                case let .emit(kind): emit(self.event(masked(kind)))
                // What a step reads from its upstream steps is known now that they have ended: part of its fingerprint.
                case let .check(index), let .launch(index, _, _):
                    if case .check = action, state.machine.runsElsewhere(index) { elsewhere.insert(index) }
                    let step = state.machine.step(index)
                    steps[index] = state.machine.upstreamValues(for: index).map { RunContext.filling(step, with: $0) } ?? step
                case let .recordOutputs(index, _), let .recover(index, _), let .takePoolSlot(index, _, _), let .releasePoolSlot(index):
                    steps[index] = state.machine.step(index)
                default: break
                }
            }
            let finishes = actions.contains { if case .finish = $0 { true } else { false } }
            return (actions, finishes ? state.continuation.take() : nil, steps, elsewhere)
        }
        if let remover {
            for case let .emit(.stepFinished(step, .succeeded, _, _, _)) in actions { remover.succeeded(step) }
        }
        // Steps queued elsewhere are checked together, so that those that must run are submitted together; the
        // others each on their own, so that one slow check holds up no other.
        var checks: [(Int, Step)] = []
        var launches: [Launch] = []
        for action in actions {
            switch action {
            case let .check(index) where elsewhere.contains(index): checks.append((index, steps[index]!))
            case let .check(index): DispatchQueue.global().async { [step = steps[index]!] in self.check([(index, step)]) }
            case let .launch(index, attempt, number): launches.append(Launch(index: index, step: steps[index]!, attempt: attempt, number: number))
            default: perform(action, finished, steps)
            }
        }
        if !checks.isEmpty { DispatchQueue.global().async { [checks] in self.check(checks) } }
        if !launches.isEmpty { launch(launches) }
    }

    private func perform(_ action: Action, _ finished: CheckedContinuation<[String: StepOutcome], Never>?, _ steps: [Int: Step]) {
        switch action {
        case .emit, .check, .launch:
            break
        case let .wake(index, delay):
            DispatchQueue.global().asyncAfter(deadline: .now() + delay) { self.handle { $0.retryDue(index) } }
        case let .recordOutputs(index, fingerprint):
            DispatchQueue.global().async { self.recordOutputs(index, steps[index]!, fingerprint: fingerprint) }
        case let .recover(index, action):
            DispatchQueue.global().async { self.recover(index, steps[index]!, action) }
        case let .cancel(attempts):
            for attempt in attempts { attempt.cancel() }
        case let .takePoolSlot(index, pool, size):
            let (store, runID, step) = (pools, context.runID, steps[index]!.name)
            poolCalls.async {
                do {
                    guard let store else { throw SluiceError(.invalidInput, "this run has no store to share pools through") }
                    let taken = try store.takePoolSlot(pool, size: size, runID: runID, step: step)
                    self.handle { taken ? $0.poolSlotTaken(index, at: Date()) : $0.poolFull(index, at: Date()) }
                } catch {
                    self.handle { $0.poolSlotFailed(index, error: StoreLocation.explain(error), at: Date()) }
                }
            }
        case let .releasePoolSlot(index):
            let (store, runID, step) = (pools, context.runID, steps[index]!.name)
            poolCalls.async { self.giveBack(runID: runID, step: step, to: store) }
        case let .waitForPool(index):
            DispatchQueue.global().asyncAfter(deadline: .now() + Self.poolPollInterval) { self.handle { $0.poolMayHaveRoom(index) } }
        case let .finish(outcomes):
            finished?.resume(returning: outcomes)
        }
    }

    /// Gives a pool slot back, trying again a while when the store refuses (locked, unreachable): a slot held by a
    /// step that has ended would count against the run's next ones for as long as it runs. The run's end frees every
    /// slot it still holds (``PipelineRunner``), and slots of an ended run count for none.
    private func giveBack(runID: String, step: String, to store: (any RunStore)?, tries: Int = 20) {
        do { try store?.releasePoolSlot(runID: runID, step: step) } catch {
            guard tries > 1 else { return }
            poolCalls.asyncAfter(deadline: .now() + 0.5) { self.giveBack(runID: runID, step: step, to: store, tries: tries - 1) }
        }
    }

    /// After the run: gives back every slot its steps still hold, after the releases already asked for.
    func releaseEveryPoolSlot() async {
        guard let pools else { return }
        let runID = context.runID
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            poolCalls.async {
                try? pools.releasePoolSlot(runID: runID, step: nil)
                done.resume()
            }
        }
    }

    /// Before their first attempts: whether the steps' declared outputs are up to date, found side by side (reading
    /// inputs is the work), then told to the machine at once, so that those that must run start together.
    private func check(_ batch: [(Int, Step)]) {
        guard let tracker else { return }
        let decided: [Answer]
        if batch.count == 1 {
            decided = [decide(batch[0].0, batch[0].1, tracker)]
        } else {
            let answers = Mutex([Answer?](repeating: nil, count: batch.count))
            DispatchQueue.concurrentPerform(iterations: batch.count) { position in
                let answer = decide(batch[position].0, batch[position].1, tracker)
                answers.withLock { $0[position] = answer }
            }
            decided = answers.withLock { $0.compactMap { $0 } }
        }
        emitHashes()
        handle { machine in decided.flatMap { $0(&machine) } }
    }

    /// Whether the step's declared outputs are up to date, as the answer to give the machine.
    private func decide(_ index: Int, _ step: Step, _ tracker: OutputTracker) -> Answer {
        do {
            switch try tracker.decide(step) {
            case let .upToDate(reason):
                emit(event(.stepUpToDate(step: step.name, reason: reason)))
                let values = tracker.lastValues(of: step.name)
                if let values, !values.isEmpty { emit(event(.valuesRecorded(step: step.name, values: values))) }
                remover?.succeeded(step.name)
                return { $0.upToDate(index, values: values) }
            case let .run(fingerprint, _):
                // Its step was not run again first (it is not in this run, or its files changed since it was checked).
                if let (path, entry) = tracker.temporary.producersOfRemoved(readBy: step, in: tracker.workspace).first {
                    let problem =
                        "its input '\(path)' is a temporary output of step '\(entry)', removed once its readers had succeeded; "
                        + "run that step again with this one (sluice run \(pipelineID) --from \(entry))"
                    return { $0.checkFailed(index, error: problem, at: Date()) }
                }
                return { $0.mustRun(index, fingerprint: fingerprint, at: Date()) }
            case let .restore(restoration):
                do { try tracker.restore(restoration, of: step) } catch {
                    // A version that went missing or no longer matches its hash: the step runs after all.
                    return { $0.mustRun(index, fingerprint: restoration.record.fingerprint, at: Date()) }
                }
                var record = restoration.record
                record.recordedAt = Date()
                emit(event(.stepUpToDate(step: step.name, reason: restoration.reason)))
                emit(event(.outputsRecorded(step: step.name, record: record, newVersions: [])))
                let values = record.outputValues
                if let values, !values.isEmpty { emit(event(.valuesRecorded(step: step.name, values: values))) }
                remover?.succeeded(step.name)
                return { $0.upToDate(index, values: values) }
            }
        } catch {
            return { $0.checkFailed(index, error: "\(error)", at: Date()) }
        }
    }

    /// What a check tells the machine.
    private typealias Answer = @Sendable (inout SchedulerStateMachine) -> [Action]

    /// An attempt the machine starts.
    private struct Launch {
        var index: Int
        var step: Step
        var attempt: Int
        var number: Int
    }

    private func launch(_ batch: [Launch]) {
        let running = executor.start(batch.map(start))
        handle { machine in zip(batch, running).flatMap { machine.started($0.index, attempt: $0.attempt, $1) } }
    }

    private func start(_ launch: Launch) -> AttemptStart {
        let (index, step, attempt, number) = (launch.index, launch.step, launch.attempt, launch.number)
        var spec = context.launchSpec(for: step).forAttempt(number)
        if let traceparent = context.traces?.attemptStarting(step: step.name, attempt: number) {
            spec.environment.removeAll { $0.hasPrefix("TRACEPARENT=") }
            spec.environment.append("TRACEPARENT=\(traceparent)")
        }
        return AttemptStart(
            spec, timeout: step.timeout,
            onStart: { [self] pid in
                emit(event(.attemptStarted(step: step.name, attempt: number, pid: pid)))
            },
            completion: { [self] result in
                var result = result
                var values: [String: String] = [:]
                let file = context.directory.values(of: step.name, attempt: number)
                if result.state == .succeeded {
                    do throws(OutputValuesFile.Problem) { values = try OutputValuesFile.read(file) } catch {
                        result.state = .failed
                        result.error = error.message
                    }
                } else {
                    // What a failed attempt wrote is passed to no one, and may hold a secret.
                    unlink(file)
                }
                if result.state == .timedOut {
                    // Its process group is gone; a daemon it detached (setsid) is not, and may hold the log pipe open.
                    // (A cancel ends the run, whose end sweeps every such process.)
                    let runID = context.runID
                    DispatchQueue.global().async { ProcessTable.endLeftovers(ofRun: runID, step: step.name) }
                }
                emit(event(masked(.attemptFinished(step: step.name, attempt: number, result: result))))
                // Recorded masked; the steps downstream read them as written.
                if !values.isEmpty { emit(event(.valuesRecorded(step: step.name, values: masked(values)))) }
                handle { $0.attemptEnded(index, attempt: attempt, result: result, values: values) }
            })
    }

    private func recordOutputs(_ index: Int, _ step: Step, fingerprint: StepFingerprint) {
        guard let tracker else { return }
        do {
            let values = state.withLock { $0.machine.values(of: index) }.map(masked)
            let recorded = try tracker.recordSuccess(of: step, fingerprint: fingerprint, runID: context.runID, values: values)
            remover?.produced(Array(recorded.record.outputs.keys), by: step)
            emitHashes()
            emit(event(.outputsRecorded(step: step.name, record: recorded.record, newVersions: recorded.newVersions)))
            handle { $0.outputsRecorded(index, failure: nil) }
        } catch {
            handle { $0.outputsRecorded(index, failure: "\(error)") }
        }
    }

    /// Runs the step's `on_failure` action and records it.
    private func recover(_ index: Int, _ step: Step, _ action: FailureAction) {
        let done: @Sendable (RecoveryAction) -> Void = { [self] action in
            emit(event(.recoveryFinished(step: step.name, action: action)))
            handle { $0.recoveryEnded(index, recovered: action.succeeded) }
        }
        switch action {
        case .rollback:
            guard let tracker else { return handle { $0.recoveryEnded(index, recovered: false) } }
            done(tracker.rollback(step))
        case let .run(script):
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
            handle { $0.started(index, attempt: 0, running) }
        }
    }

    /// What the machine says, secrets masked: a condition's reason and an error may quote a value.
    private func masked(_ kind: RunEvent.Kind) -> RunEvent.Kind {
        guard !context.mask.isEmpty else { return kind }
        switch kind {
        case let .stepSkipped(step, reason): return .stepSkipped(step: step, reason: context.mask.redact(reason))
        case .stepFinished(let step, let state, let attempts, let allowed, var result):
            result.error = result.error.map(context.mask.redact)
            return .stepFinished(step: step, state: state, attempts: attempts, allowed: allowed, result: result)
        case .attemptFinished(let step, let attempt, var result):
            result.error = result.error.map(context.mask.redact)
            return .attemptFinished(step: step, attempt: attempt, result: result)
        default: return kind
        }
    }

    /// Values as they are recorded: secrets masked.
    private func masked(_ values: [String: String]) -> [String: String] {
        context.mask.isEmpty ? values : values.mapValues(context.mask.redact)
    }

    /// Hands newly computed file hashes to the store, so later runs need not read those files again.
    private func emitHashes() {
        guard let fresh = tracker?.hasher.takeFresh(), !fresh.isEmpty else { return }
        emit(event(.filesHashed(fresh)))
    }

    private func event(_ kind: RunEvent.Kind) -> RunEvent {
        RunEvent(runID: context.runID, pipeline: pipelineID, kind: kind)
    }
}

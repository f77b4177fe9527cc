import Foundation

/// The scheduler's decisions without its side effects: which steps start, wait to retry, recover or are skipped,
/// what is said about it, and when the run is over.
///
/// Each event (the scheduler starts, a step's outputs were checked, an attempt ended, a retry fell due, a recovery
/// ended, a cancel) is a `mutating` method that returns the actions to carry out, in order. ``Scheduler`` holds the
/// machine under its lock and carries the actions out; the machine spawns, emits and waits for nothing, so tests
/// drive every path through it without processes or clocks (as postgres-nio's `ConnectionStateMachine`).
///
/// Each included step counts its unfinished upstream steps; when the count reaches zero its trigger rule decides,
/// from how they ended, whether it is queued or skipped. No rescans: an event touches only the steps it releases.
/// A fan-out over an upstream step's value adds its instances when it is ready, and waits for them as a join.
struct SchedulerStateMachine {
    struct Options: Sendable {
        var jobs: Int
        /// The CPUs and memory local steps may use at once, and the sizes of the pools.
        var capacity = RunCapacity()
        var continueOnError: Bool
        /// Steps that declare outputs have them checked (``Action/check(_:)``) before their first attempt.
        var checksOutputs = false
        /// Attempts each step already made in this run (a resumed run): its attempts here are numbered after them.
        var attemptsBefore: [String: Int] = [:]
        /// The run's parameter values, which `if:` conditions read.
        var parameters: [String: String] = [:]
        /// How the steps outside this go ended in an earlier one (a resumed run), for `if: steps.NAME.state`.
        var statesBefore: [String: StepState] = [:]
        /// What the steps outside this go passed on in an earlier run (a resumed run, or the run `sluice step`
        /// takes its upstream values from), for `{{ steps.NAME.outputs.KEY }}`.
        var valuesBefore: [String: [String: String]] = [:]
        /// The instances, in item order, that fan-outs over an upstream step's value had there, for a step that
        /// reads their values while the fan-out does not run again.
        var instancesBefore: [String: [String]] = [:]
        /// Whether a step waits in its executor's own queue (a Slurm cluster's) rather than for one of the run's
        /// `jobs` slots: such steps start as soon as they are ready, so a fan-out's instances go out together.
        var queuedElsewhere: @Sendable (Step) -> Bool = { _ in false }
        /// Whether a step runs on this machine, where its `resources:` count against `capacity` (not on workers or Slurm).
        var runsHere: @Sendable (Step) -> Bool = { _ in true }
    }

    enum Action {
        /// Say this.
        case emit(RunEvent.Kind)
        /// See whether the step's declared outputs are up to date; answer with ``upToDate(_:)``,
        /// ``mustRun(_:fingerprint:at:)`` or ``checkFailed(_:error:at:)``.
        case check(Int)
        /// Start the step's attempt `attempt` of this run, recorded as attempt `number`; answer with
        /// ``started(_:attempt:_:)`` and ``attemptEnded(_:attempt:result:)``.
        case launch(Int, attempt: Int, number: Int)
        /// Answer with ``retryDue(_:)`` after `delay` seconds.
        case wake(Int, after: Double)
        /// Version the outputs of the step that succeeded; answer with ``outputsRecorded(_:failure:)``.
        case recordOutputs(Int, fingerprint: StepFingerprint)
        /// Run the step's `on_failure` action; answer with ``recoveryEnded(_:recovered:)`` (and, for a script,
        /// ``started(_:attempt:_:)`` with attempt 0).
        case recover(Int, FailureAction)
        case cancel([any RunningAttempt])
        /// Take one of the `size` slots of the step's pool, in the store; answer with ``poolSlotTaken(_:)``,
        /// ``poolFull(_:)`` or ``poolSlotFailed(_:error:)``.
        case takePoolSlot(Int, pool: String, size: Int)
        /// Give back the slot the step's attempt held.
        case releasePoolSlot(Int)
        /// Its pool is full: answer with ``poolMayHaveRoom(_:)`` after a while (a run sharing the store may end).
        case waitForPool(Int)
        /// The run is over: every included step's outcome, by name.
        case finish([String: StepOutcome])
    }

    /// A step that is being checked, running, recovering, or waiting to be started again after a failed attempt.
    private struct Active {
        /// What runs for it now, to cancel: `current` is its attempt, or 0 for its recovery script.
        var running: (any RunningAttempt)?
        var current = 0
        /// Its retry's delay is running: it holds no job slot meanwhile.
        var waitingToRetry = false
        var attempts = 0
        var fingerprint: StepFingerprint?
        /// Its last attempt's result, while its outputs are versioned or it recovers.
        var result: AttemptResult?
        /// It holds a slot of its pool, for its current attempt.
        var holdsPool = false
        /// Its pool is full: it waits, holding no job slot, to ask again.
        var waitingForPool = false
    }

    private let options: Options
    /// The plan's steps and graph, which grow when a fan-out over an upstream step's value meets its items.
    private var steps: [Step]
    private var upstream: [[Int]]
    private var downstream: [[Int]]
    private var stepIndex: [String: Int]
    /// The included steps, in the plan's order and then as they appeared.
    private var order: [Int]
    private var included: Set<Int>
    private var waiting: [Int]
    /// Ready steps that wait for a job slot, and those that wait in their executor's queue instead.
    private var ready: ReadyQueue
    private var readyElsewhere: ReadyQueue
    /// Whether each step waits in its executor's queue (``Options/queuedElsewhere``).
    private var runsElsewhere: [Bool]
    /// Whether each step's resources count against the run's (``Options/runsHere``).
    private var runsHere: [Bool]
    private var active: [Int: Active] = [:]
    /// Steps of `active` that hold no job slot: those queued elsewhere, and those waiting out a retry's delay or due
    /// for it and waiting for a slot.
    private var idle = 0
    /// Steps whose retry is due, or whose turn to ask for their pool has come, first come first served, ahead of
    /// steps not started yet.
    private var due: [Int] = []
    /// The CPUs and memory that the local steps holding a job slot asked for.
    private var usedCPUs = 0
    private var usedMemory: Int64 = 0
    /// For each pool, the step that asks the store for a slot (or waits to ask again), and the steps that wait
    /// behind it: one question per pool at a time, however many steps wait for it.
    private var poolAsking: [String: Int] = [:]
    private var poolQueues: [String: ReadyQueue] = [:]
    private var outcomes: [Int: StepOutcome] = [:]
    private var stoppedBy: String?
    private(set) var isCancelled = false
    /// Why it was cancelled, when the canceller said (the server shut down).
    private var cancelledBecause: String?
    private var started = false
    /// ``startReady()`` is running.
    private var starting = false
    private var finished = false
    /// Each included step's fan-out (an index into `fanOuts`), or -1 for a step that is not an instance.
    private var fanOutOf: [Int]
    private var fanOuts: [FanOutGroup]
    /// The fan-out whose failed instance stopped the run: its siblings still start, unless it fails fast.
    private var stoppedByFanOut = -1
    /// The parameters as `if:` conditions read them, decoded once (a list parameter is a list).
    private var conditionParameters: [String: Condition.Value] = [:]
    /// What each step that succeeded passed on (`$SLUICE_OUTPUT`), kept while a step downstream may read it.
    private var values: [Int: [String: String]] = [:]
    /// Each fan-out's instances in item order, for a step that reads their values as a list.
    private var instancesOf: [String: [Int]] = [:]
    /// The instances of fan-outs over an upstream step's value that the selection names, by fan-out, when it names
    /// some and not the fan-out itself.
    private var selectedInstances: [String: Set<String>] = [:]
    /// The fan-outs over an upstream step's value that met their items: each waits for its instances, as a join.
    private var expanded: [Int: [Int]] = [:]

    /// The instances of one fan-out: how many are active, which wait for its `max_parallel`, whether one failed.
    private struct FanOutGroup {
        var limit: Int?
        var failFast: Bool
        var active = 0
        var parked = ReadyQueue()
        /// Why its siblings are skipped once an instance failed, with `fail_fast`.
        var failure: String?
    }

    init(plan: Plan, options: Options) {
        self.options = options
        steps = plan.pipeline.steps
        upstream = plan.graph.upstream
        downstream = plan.graph.downstream
        stepIndex = plan.graph.index
        order = plan.included.map(\.index)
        let included = Set(order)
        self.included = included
        // Upstream steps outside the selection count as done: the user chose not to run them.
        var waiting = [Int](repeating: 0, count: plan.graph.count)
        for index in included { waiting[index] = upstream[index].count(where: included.contains) }
        self.waiting = waiting
        let runsElsewhere = steps.map(options.queuedElsewhere)
        self.runsElsewhere = runsElsewhere
        runsHere = steps.map(options.runsHere)
        let first = plan.included.map(\.index).filter { waiting[$0] == 0 }
        ready = ReadyQueue()
        readyElsewhere = ReadyQueue()
        for index in first {
            if runsElsewhere[index] {
                readyElsewhere.push(index, priority: steps[index].priority)
            } else {
                ready.push(index, priority: steps[index].priority)
            }
        }
        var fanOutOf = [Int](repeating: -1, count: plan.graph.count)
        var numbers: [String: Int] = [:]
        var fanOuts: [FanOutGroup] = []
        for index in included {
            guard let instance = steps[index].instance else { continue }
            if numbers[instance.of] == nil {
                numbers[instance.of] = fanOuts.count
                fanOuts.append(FanOutGroup(limit: instance.maxParallel, failFast: instance.failFast))
            }
            fanOutOf[index] = numbers[instance.of]!
        }
        self.fanOutOf = fanOutOf
        self.fanOuts = fanOuts
        for (index, step) in steps.enumerated() { if let instance = step.instance { instancesOf[instance.of, default: []].append(index) } }
        for name in plan.pipeline.emptyFanOuts { instancesOf[name] = [] }
        if included.contains(where: { steps[$0].condition != nil }) {
            conditionParameters = Condition.values(of: options.parameters, plan.pipeline.parameters)
        }
        let named = Set(plan.selection.steps + plan.selection.only)
        for name in named {
            guard let fanOut = FanOutSummary.fanOut(of: name), !named.contains(fanOut), stepIndex[name] == nil else { continue }
            selectedInstances[fanOut, default: []].insert(name)
        }
    }

    // MARK: Events

    /// The run begins: the steps without upstream steps start, up to `jobs` of them. The run cannot finish before.
    mutating func start() -> [Action] {
        started = true
        return startReady()
    }

    /// The step's outputs are up to date: it passes on `values`, what it passed on when it last ran.
    mutating func upToDate(_ index: Int, values: [String: String]? = nil) -> [Action] {
        if let values, !values.isEmpty { self.values[index] = values }
        return settle(index, StepOutcome(state: .upToDate))
    }

    mutating func mustRun(_ index: Int, fingerprint: StepFingerprint, at now: Date) -> [Action] {
        guard !isCancelled else {
            var result = AttemptResult.notStarted(at: now, error: "cancelled before it started")
            result.state = .cancelled
            return ended(index, result: result)
        }
        active[index]!.fingerprint = fingerprint
        return launch(index, attempt: 1)
    }

    mutating func checkFailed(_ index: Int, error: String, at now: Date) -> [Action] {
        ended(index, result: .notStarted(at: now, error: "cannot check its inputs: \(error)"))
    }

    /// An attempt (or, as attempt 0, a recovery script) was started: a cancel must reach it.
    mutating func started(_ index: Int, attempt: Int, _ running: any RunningAttempt) -> [Action] {
        guard let step = active[index], step.current == attempt, !step.waitingToRetry else { return [] }
        active[index]!.running = running
        return isCancelled ? [.cancel([running])] : []
    }

    /// An attempt ended; one that succeeded passed on `values` (`$SLUICE_OUTPUT`, as written: the steps downstream
    /// read them so, and what is recorded is masked).
    mutating func attemptEnded(_ index: Int, attempt: Int, result: AttemptResult, values: [String: String] = [:]) -> [Action] {
        let step = steps[index]
        active[index]!.running = nil
        active[index]!.attempts = attempt
        if result.state == .succeeded, !values.isEmpty { self.values[index] = values }
        let (released, waker) = givePoolSlotBack(index)
        guard result.state != .succeeded, result.state != .cancelled, attempt <= step.retry.retries, !isCancelled else {
            return released + wakeIfAny(waker) + ended(index, result: result)
        }
        active[index]!.waitingToRetry = true
        if !runsElsewhere[index] { letGo(index) }
        let delay = step.retry.delay(beforeAttempt: attempt + 1)
        // The slot it held is free for the delay: a step it waits for (a file another step writes) can run meanwhile.
        return released
            + [.emit(.retryScheduled(step: step.name, attempt: number(attempt + 1, of: index), delay: delay)), .wake(index, after: delay)]
            + wakeIfAny(waker) + startReady()
    }

    /// A slot of the step's pool is its own: its attempt starts. The next step waiting for the pool asks too, as
    /// more slots may be free.
    mutating func poolSlotTaken(_ index: Int, at now: Date) -> [Action] {
        let pool = steps[index].pool!
        poolAsking[pool] = nil
        let next = nextAsker(pool)
        guard !isCancelled else {
            var result = AttemptResult.notStarted(at: now, error: "cancelled before it started")
            result.state = .cancelled
            return [.releasePoolSlot(index)] + ended(index, result: result) + next
        }
        active[index]!.holdsPool = true
        return launch(index, attempt: active[index]!.current) + next + startReady()
    }

    /// Every slot of the step's pool is taken: it waits, holding no job slot, and asks again later.
    mutating func poolFull(_ index: Int, at now: Date) -> [Action] {
        guard !isCancelled else {
            poolAsking[steps[index].pool!] = nil
            var result = AttemptResult.notStarted(at: now, error: "cancelled while waiting for pool '\(steps[index].pool!)'")
            result.state = .cancelled
            return ended(index, result: result)
        }
        active[index]!.waitingForPool = true
        if !runsElsewhere[index] { letGo(index) }
        return [.waitForPool(index)] + startReady()
    }

    /// The store could not say whether a slot is free: the attempt fails, as one that could not start.
    mutating func poolSlotFailed(_ index: Int, error: String, at now: Date) -> [Action] {
        let pool = steps[index].pool!
        poolAsking[pool] = nil
        // The store may have taken it and lost the answer: giving back what was not taken changes nothing.
        return [.releasePoolSlot(index)] + ended(index, result: .notStarted(at: now, error: "cannot take a slot of pool '\(pool)': \(error)"))
            + nextAsker(pool)
    }

    /// A while has passed since the step found its pool full (or a step of this run gave a slot back): it asks again.
    mutating func poolMayHaveRoom(_ index: Int) -> [Action] {
        guard !isCancelled, active[index]?.waitingForPool == true, let pool = steps[index].pool, poolAsking[pool] == index else { return [] }
        return wake(index)
    }

    /// A retry's delay is over. A cancel that came first ended the step: then nothing happens.
    mutating func retryDue(_ index: Int) -> [Action] {
        guard !isCancelled, active[index]?.waitingToRetry == true else { return [] }
        active[index]!.waitingToRetry = false
        guard !runsElsewhere[index] else { return launch(index, attempt: active[index]!.attempts + 1) }
        due.append(index)
        return startReady()
    }

    mutating func outputsRecorded(_ index: Int, failure: String?) -> [Action] {
        guard let failure else { return finish(index) }
        active[index]!.result!.state = .failed
        active[index]!.result!.error = "its outputs could not be versioned: \(failure)"
        return recoverOrFinish(index)
    }

    mutating func recoveryEnded(_ index: Int, recovered: Bool) -> [Action] { finish(index, recovered: recovered) }

    /// Stops the run: no new steps start, running ones are cancelled, waiting retries are given up, and the steps
    /// meant for failures are skipped too. `why`, when given, is said by every step the cancel stops or skips.
    mutating func cancel(why: String?, at now: Date) -> [Action] {
        isCancelled = true
        cancelledBecause = cancelledBecause ?? why
        stoppedBy = stoppedBy ?? (["the run was cancelled"] + [why].compactMap { $0 }).joined(separator: ": ")
        let waiting = active.keys.filter { active[$0]!.waitingToRetry || active[$0]!.waitingForPool || due.contains($0) }
        for index in waiting where !runsElsewhere[index] { hold(index) }
        due = []
        var actions: [Action] = [.cancel(active.values.compactMap(\.running))]
        for index in waiting {
            let pool = active[index]!.waitingForPool ? steps[index].pool : nil
            active[index]!.waitingToRetry = false
            active[index]!.waitingForPool = false
            if let pool, poolAsking[pool] == index { poolAsking[pool] = nil }
            let error = pool.map { "cancelled while waiting for pool '\($0)'" } ?? "cancelled while waiting to retry"
            var result = AttemptResult.notStarted(at: now, error: error)
            result.state = .cancelled
            actions += ended(index, result: result)
        }
        poolQueues = [:]
        // Steps still queued are skipped there, and the run ends once nothing runs.
        return actions + startReady()
    }

    // MARK: Transitions

    private mutating func startReady() -> [Action] {
        // A step that ends as it starts (its values do not fit, its items cannot be read) settles inside this loop:
        // the loop goes on with what that released, rather than starting again one level deeper.
        guard !starting else { return [] }
        starting = true
        defer { starting = false }
        var actions: [Action] = []
        while !isCancelled, let index = due.first, admits(index) {
            due.removeFirst()
            hold(index)
            actions += launch(index, attempt: active[index]!.attempts + 1)
        }
        // The first ready step waits until it fits, rather than be overtaken by smaller ones for ever; and so do they
        // all behind a due retry that does not fit yet.
        while let index = readyElsewhere.pop() ?? (ready.first.map { isCancelled || (due.isEmpty && admits($0)) } == true ? ready.pop() : nil) {
            actions += begin(index)
        }
        return actions + finishIfDone()
    }

    /// Starts a ready step, or settles it at once: skipped (its fan-out failed fast, the run stopped, its `if:`),
    /// or, for a fan-out over an upstream step's value, expanded into its instances.
    private mutating func begin(_ index: Int) -> [Action] {
        let step = steps[index]
        let fanOut = fanOutOf[index]
        if fanOut >= 0, !isCancelled, let failure = fanOuts[fanOut].failure {
            defer { release(fanOut) }
            return resolve(index, StepOutcome(state: .skipped, skippedByFailure: true), skipped: failure)
        }
        // A stopped run still runs the steps meant for failures (alerts, clean-up), and the siblings of a failed
        // instance; a cancelled one runs nothing.
        if let stop = stoppedBy,
            isCancelled || !([.oneFailed, .allDone].contains(step.triggerRule) || (fanOut >= 0 && fanOut == stoppedByFanOut))
        {
            defer { if fanOut >= 0 { release(fanOut) } }
            return resolve(index, StepOutcome(state: .skipped, skippedByFailure: !isCancelled), skipped: stop)
        }
        // A fan-out whose items come at run time has its condition read by each instance, with its item.
        if let condition = step.condition, step.fanOut?.isDynamic != true, let skip = unmet(condition, of: index) {
            defer { if fanOut >= 0 { release(fanOut) } }
            return resolve(index, StepOutcome(state: .skipped), skipped: skip)
        }
        if case let .upstream(source, key)? = step.fanOut?.source { return expand(index, over: source, key) }
        if fanOut >= 0 {
            if let limit = fanOuts[fanOut].limit, fanOuts[fanOut].active >= limit {
                fanOuts[fanOut].parked.push(index, priority: step.priority)
                return []
            }
            fanOuts[fanOut].active += 1
        }
        activate(index)
        if let problem = overCapacity(index) { return ended(index, result: .notStarted(at: Date(), error: problem)) }
        return options.checksOutputs && !step.outputs.isEmpty ? [.check(index)] : launch(index, attempt: 1)
    }

    /// The step becomes active: it holds a job slot and its resources, unless it waits in its executor's queue.
    private mutating func activate(_ index: Int) {
        active[index] = Active()
        if runsElsewhere[index] { idle += 1 } else { use(index, 1) }
    }

    /// An active local step takes a job slot and its resources again (its retry is due, its pool may have room).
    private mutating func hold(_ index: Int) {
        idle -= 1
        use(index, 1)
    }

    /// An active local step gives its job slot and resources back while it waits (for its retry, for its pool).
    private mutating func letGo(_ index: Int) {
        idle += 1
        use(index, -1)
    }

    private mutating func use(_ index: Int, _ sign: Int) {
        guard runsHere[index] else { return }
        usedCPUs += sign * steps[index].resources.cpus
        usedMemory += Int64(sign) * (steps[index].resources.memory ?? 0)
    }

    /// Whether the local step at `index` may take a job slot now: one is free, and its resources fit beside those of
    /// the steps holding one. A step that asks for more than the run has at all gets in, to fail at once.
    private func admits(_ index: Int) -> Bool {
        guard active.count - idle < max(1, options.jobs) else { return false }
        let resources = steps[index].resources, capacity = options.capacity
        guard runsHere[index], overCapacity(index) == nil else { return true }
        return usedCPUs + resources.cpus <= capacity.cpus && usedMemory + (resources.memory ?? 0) <= capacity.memory
    }

    /// Why the local step at `index` can never start: it asks for more CPUs or memory than the run has.
    private func overCapacity(_ index: Int) -> String? {
        guard runsHere[index] else { return nil }
        let resources = steps[index].resources, capacity = options.capacity
        if resources.cpus > capacity.cpus {
            return "it asks for \(resources.cpus) CPUs (resources.cpus) and the steps of this run may use \(capacity.cpus) "
                + "(--cpus, or cpus in sluice.yaml)"
        }
        if let memory = resources.memory, memory > capacity.memory {
            return "it asks for \(ByteSize.memoryText(memory)) of memory (resources.memory) and the steps of this run may use "
                + "\(ByteSize.memoryText(capacity.memory)) (--memory, or memory in sluice.yaml)"
        }
        return nil
    }

    /// Queues a step whose upstream steps let it run.
    private mutating func enqueue(_ index: Int) {
        if runsElsewhere[index] {
            readyElsewhere.push(index, priority: steps[index].priority)
        } else {
            ready.push(index, priority: steps[index].priority)
        }
    }

    /// A step waiting for its pool asks for a slot again: at once when it waits in its executor's queue, else once
    /// it has a job slot.
    private mutating func wake(_ index: Int) -> [Action] {
        active[index]!.waitingForPool = false
        guard !runsElsewhere[index] else { return launch(index, attempt: active[index]!.current) }
        due.append(index)
        return startReady()
    }

    private mutating func wakeIfAny(_ index: Int?) -> [Action] { index.map { wake($0) } ?? [] }

    /// The next step waiting behind `pool`'s asker asks in its place.
    private mutating func nextAsker(_ pool: String) -> [Action] {
        guard poolAsking[pool] == nil, let next = poolQueues[pool]?.pop() else { return [] }
        poolAsking[pool] = next
        return wake(next)
    }

    /// The step's attempt ended: the slot of its pool it held is given back, and the step that waits to ask for one
    /// (returned) asks again at once.
    private mutating func givePoolSlotBack(_ index: Int) -> ([Action], Int?) {
        guard active[index]!.holdsPool, let pool = steps[index].pool else { return ([], nil) }
        active[index]!.holdsPool = false
        let waker = poolAsking[pool].flatMap { active[$0]?.waitingForPool == true ? $0 : nil }
        return ([.releasePoolSlot(index)], waker)
    }

    /// A fan-out over an upstream step's value is ready: its instances join the run, each ready to start, and the
    /// fan-out waits for them as its downstream steps then wait for it. Instances that succeeded in an earlier go of
    /// the run (a resumed run) count as done.
    private mutating func expand(_ index: Int, over source: String, _ key: String) -> [Action] {
        let step = steps[index]
        let made: [Step]
        do throws(SluiceError) {
            if let written = written(by: source), !written.contains(key) {
                throw SluiceError(
                    .invalidInput,
                    "step '\(source)' passed on no value '\(key)'"
                        + (written.isEmpty ? " (it passed on none)" : "; it passed on: \(written.sorted().joined(separator: ", "))"))
            }
            let items = try FanOutExpansion.items(fromValue: value(of: source, key, for: index).text, of: "{{ steps.\(source).outputs.\(key) }}")
            made = try FanOutExpansion.instances(of: step, fanOut: step.fanOut!, items: items, parameters: options.parameters)
        } catch {
            activate(index)
            return ended(index, result: .notStarted(at: Date(), error: "foreach: \(error.message)"))
        }
        instancesOf[step.name] = []
        guard !made.isEmpty else {
            // As a fan-out without items written in the file: its downstream steps run after what it waited for.
            activate(index)
            return ended(index, result: AttemptResult(state: .succeeded, startedAt: Date(), finishedAt: Date()))
        }
        let group = fanOuts.count
        fanOuts.append(FanOutGroup(limit: step.fanOut!.maxParallel, failFast: step.fanOut!.failFast))
        var members: [Int] = []
        var pending = 0
        // Instances the selection names (`sluice step P 'map[B]'`) run alone, unless it names the fan-out too.
        let named = selectedInstances[step.name]
        if let named, let unknown = named.subtracting(made.map(\.name)).sorted().first {
            activate(index)
            let known = made.prefix(10).map(\.name).joined(separator: ", ") + (made.count > 10 ? " and \(made.count - 10) more" : "")
            return ended(index, result: .notStarted(at: Date(), error: "foreach: it has no instance '\(unknown)'; its instances are \(known)"))
        }
        for instance in made {
            let new = steps.count
            steps.append(instance)
            runsElsewhere.append(options.queuedElsewhere(instance))
            runsHere.append(options.runsHere(instance))
            upstream.append([])
            downstream.append([index])
            if stepIndex[instance.name] == nil { stepIndex[instance.name] = new }
            waiting.append(0)
            fanOutOf.append(group)
            members.append(new)
            if let before = options.statesBefore[instance.name], before.isSuccess {
                outcomes[new] = StepOutcome(state: before)
            } else if let named, !named.contains(instance.name) {
                continue
            } else {
                included.insert(new)
                order.append(new)
                enqueue(new)
                pending += 1
            }
        }
        instancesOf[step.name] = members
        expanded[index] = members
        waiting[index] = pending
        // Rows for the instances that run: those done in an earlier go have theirs, or stay that run's.
        let added: [Action] = [.emit(.stepsAdded(step: step.name, instances: members.filter(included.contains).map { steps[$0].name }))]
        guard pending == 0 else { return added }
        let (outcome, said) = joined(index)
        return added + [.emit(said)] + resolve(index, outcome, skipped: nil)
    }

    /// How a fan-out that met its items at run time ended, once every instance has: failed when one failed (and was
    /// neither allowed nor recovered), cancelled when one was, skipped when all were, else succeeded.
    private func joined(_ index: Int) -> (StepOutcome, RunEvent.Kind) {
        let ends = expanded[index]!.compactMap { outcomes[$0] }
        let failed = ends.count { $0.state.isFailure && !$0.allowed && !$0.recovered }
        let name = steps[index].name
        if ends.allSatisfy({ $0.state == .skipped }) {
            let outcome = StepOutcome(state: .skipped, skippedByFailure: ends.contains(where: \.skippedByFailure))
            return (outcome, .stepSkipped(step: name, reason: "each of its \(ends.count) instances was skipped"))
        }
        let state: StepState = ends.contains { $0.state == .cancelled } ? .cancelled : failed > 0 ? .failed : .succeeded
        let result = AttemptResult(
            state: state, error: failed > 0 ? "\(failed) of its \(ends.count) instances failed" : nil, startedAt: Date(), finishedAt: Date())
        return (StepOutcome(state: state), .stepFinished(step: name, state: state, attempts: 0, allowed: false, result: result))
    }

    private mutating func launch(_ index: Int, attempt: Int) -> [Action] {
        // The kernel refuses to start a process with one argument or variable past 128 KiB.
        if let values = upstreamValues(for: index), let problem = Self.tooLong(RunContext.filling(steps[index], with: values), values) {
            return ended(index, result: .notStarted(at: Date(), error: problem))
        }
        active[index]!.current = attempt
        // Each attempt of a step with a pool holds one of its slots; one step per pool asks the store at a time.
        if let pool = steps[index].pool, !active[index]!.holdsPool, let size = options.capacity.pools[pool] {
            guard poolAsking[pool] == nil || poolAsking[pool] == index else {
                active[index]!.waitingForPool = true
                if !runsElsewhere[index] { letGo(index) }
                poolQueues[pool, default: ReadyQueue()].push(index, priority: steps[index].priority)
                return startReady()
            }
            poolAsking[pool] = index
            return [.takePoolSlot(index, pool: pool, size: size)]
        }
        return [.launch(index, attempt: attempt, number: number(attempt, of: index))]
    }

    /// The most a command or an `env` entry may be: Linux's `MAX_ARG_STRLEN`.
    static let wordLimit = 128 << 10

    /// Why `step`, with upstream values filled in, cannot be started: its command or an `env` entry is too long.
    private static func tooLong(_ step: Step, _ values: [String: String]) -> String? {
        var words = step.environment.map { "\($0.key)=\($0.value)" }
        if case let .command(text) = step.action { words.append(text) }
        guard let longest = words.max(by: { $0.utf8.count < $1.utf8.count }), longest.utf8.count >= wordLimit else { return nil }
        let biggest = values.max { $0.value.utf8.count < $1.value.utf8.count }.map { " ({{ \($0.key) }} is \($0.value.utf8.count) bytes)" } ?? ""
        return "its command or an env entry would be \(longest.utf8.count) bytes once upstream values are filled in\(biggest), "
            + "more than a process may take (128 KiB): pass large values in a file under $SLUICE_OUTPUTS_DIR"
    }

    /// The number an attempt is recorded under: this run's attempt, after those of an earlier, interrupted go.
    private func number(_ attempt: Int, of index: Int) -> Int { attempt + (options.attemptsBefore[steps[index].name] ?? 0) }

    /// A step's last attempt ended: its outputs are versioned on success, recovered on failure.
    private mutating func ended(_ index: Int, result: AttemptResult) -> [Action] {
        var result = result
        if let wait = steps[index].waitFor, result.state.isFailure, !isCancelled {
            // It gave up waiting: skipped with `soft_fail`, as Airflow's sensors are, else failed.
            let checks = active[index]!.attempts
            result.error =
                "gave up waiting after \(checks) check\(checks == 1 ? "" : "s") over \(DurationFormat.short(wait.timeout)) "
                + "(the last: \(result.error ?? result.state.rawValue))" + (wait.softFail ? "; soft_fail: skipped" : "")
            if wait.softFail { result.state = .skipped }
        }
        active[index]!.result = result
        if result.state == .succeeded, let fingerprint = active[index]!.fingerprint {
            return [.recordOutputs(index, fingerprint: fingerprint)]
        }
        return result.state.isFailure ? recoverOrFinish(index) : finish(index)
    }

    private mutating func recoverOrFinish(_ index: Int) -> [Action] {
        guard let action = steps[index].onFailure, !isCancelled else { return finish(index) }
        active[index]!.current = 0
        return [.recover(index, action)]
    }

    private mutating func finish(_ index: Int, recovered: Bool = false) -> [Action] {
        let step = steps[index]
        var result = active[index]!.result!
        // A step the run's cancel stopped says why, when the canceller said (the server shut down, a user asked).
        if result.state == .cancelled, isCancelled, let why = cancelledBecause {
            result.error = "\(result.error ?? "cancelled"): \(why)"
        }
        let allowed = step.allowFailure && result.state.isFailure
        let attempts = number(active[index]!.attempts, of: index)
        return [.emit(.stepFinished(step: step.name, state: result.state, attempts: attempts, allowed: allowed, result: result))]
            + settle(index, StepOutcome(state: result.state, allowed: allowed, recovered: recovered))
    }

    /// Records a step's final outcome, releases or skips its downstream steps, and starts what became ready.
    private mutating func settle(_ index: Int, _ outcome: StepOutcome) -> [Action] {
        if active.removeValue(forKey: index) != nil {
            if runsElsewhere[index] { idle -= 1 } else { use(index, -1) }
        }
        let fanOut = fanOutOf[index]
        // A waiting step skipped by `soft_fail` stops nothing: its downstream steps are skipped by their rules.
        let failed = !outcome.isSuccess && !outcome.recovered && outcome.state != .skipped
        if fanOut >= 0 {
            // Its place is free for a sibling that waited for `max_parallel`.
            fanOuts[fanOut].active -= 1
            release(fanOut)
            if failed, outcome.state.isFailure, fanOuts[fanOut].failFast, fanOuts[fanOut].failure == nil {
                fanOuts[fanOut].failure = "fail_fast: instance '\(steps[index].name)' \(outcome.state.rawValue)"
            }
        }
        if outcome.state == .cancelled || (isCancelled && !outcome.isSuccess) {
            stoppedBy = stoppedBy ?? "the run was cancelled"
        } else if failed && !options.continueOnError && stoppedBy == nil {
            let ended = outcome.state.rawValue.replacingOccurrences(of: "_", with: " ")
            let name = steps[index].name
            stoppedBy = "the run stopped after step '\(name)' \(ended) (--continue-on-error runs independent steps)"
            if fanOut >= 0, !fanOuts[fanOut].failFast { stoppedByFanOut = fanOut }
        }
        return resolve(index, outcome, skipped: nil) + startReady()
    }

    /// Sets `index`'s outcome and counts it off its downstream steps; those whose count reaches zero are queued or,
    /// when their trigger rule says so, skipped in turn (said with the reason).
    private mutating func resolve(_ index: Int, _ outcome: StepOutcome, skipped reason: String?) -> [Action] {
        var actions: [Action] = []
        var work = [(index, outcome, reason)]
        while let (current, outcome, reason) = work.popLast() {
            outcomes[current] = outcome
            if let reason { actions.append(.emit(.stepSkipped(step: steps[current].name, reason: reason))) }
            for next in downstream[current] where included.contains(next) {
                waiting[next] -= 1
                guard waiting[next] == 0 else { continue }
                if expanded[next] != nil {
                    let (outcome, said) = joined(next)
                    if case let .stepSkipped(_, reason) = said {
                        work.append((next, outcome, reason))
                    } else {
                        actions.append(.emit(said))
                        work.append((next, outcome, nil))
                    }
                } else if let (why, byFailure) = skipReason(next) {
                    work.append((next, StepOutcome(state: .skipped, skippedByFailure: byFailure), why))
                } else {
                    enqueue(next)
                }
            }
        }
        return actions
    }

    /// Why the trigger rule of `index` skips it, given its upstream outcomes, and whether a failure is the cause;
    /// nil when it runs.
    private func skipReason(_ index: Int) -> (String, Bool)? {
        let step = steps[index]
        let ended = upstream[index].filter(included.contains).map { (steps[$0].name, outcomes[$0]!) }
        let rule = "trigger rule \(step.triggerRule.rawValue)"
        if ended.contains(where: { $0.1.state == .cancelled }) { return (stoppedBy ?? "the run was cancelled", false) }
        func describe(_ outcome: StepOutcome) -> String {
            outcome.state == .skipped ? "was skipped" : outcome.state.rawValue.replacingOccurrences(of: "_", with: " ")
        }
        func blocking(_ name: String, _ outcome: StepOutcome, _ detail: String = "") -> (String, Bool) {
            ("\(rule): upstream step '\(name)' \(describe(outcome))\(detail)", outcome.state.isFailure || outcome.skippedByFailure)
        }
        switch step.triggerRule {
        case .allSuccess:
            return ended.first { !$0.1.isSuccess }.map { blocking($0.0, $0.1) }
        case .recovered:
            return ended.first { !$0.1.isSuccess && !$0.1.recovered }.map { name, outcome in
                blocking(name, outcome, outcome.state.isFailure ? " and was not recovered" : "")
            }
        case .allDone:
            return nil
        case .oneFailed:
            return ended.contains { $0.1.state.isFailure } ? nil : ("\(rule): no upstream step failed", false)
        case .noneFailed, .noneFailedMinOneSuccess:
            // A tolerated failure (`allow_failure`) is no failure here, as for `all_success`.
            if let (name, outcome) = ended.first(where: { ($0.1.state.isFailure && !$0.1.allowed) || $0.1.skippedByFailure }) {
                return blocking(name, outcome, outcome.state == .skipped ? " after a failure" : "")
            }
            // A success that ran or was up to date: a tolerated failure is not one.
            guard step.triggerRule == .noneFailedMinOneSuccess, !ended.isEmpty, !ended.contains(where: { $0.1.state.isSuccess }) else {
                return nil
            }
            return ("\(rule): no upstream step succeeded", false)
        }
    }

    /// Queues the next instance that waits for the fan-out's `max_parallel`, when there is room for it: after an
    /// instance ended, or was skipped without starting (which took no room, so another waiting one must go on).
    private mutating func release(_ fanOut: Int) {
        guard fanOuts[fanOut].active < fanOuts[fanOut].limit ?? Int.max, let next = fanOuts[fanOut].parked.pop() else { return }
        enqueue(next)
    }

    /// The step at `index`, of the plan or added at run time.
    func step(_ index: Int) -> Step { steps[index] }

    /// Whether the step at `index` waits in its executor's queue (``Options/queuedElsewhere``).
    func runsElsewhere(_ index: Int) -> Bool { runsElsewhere[index] }

    /// What the step at `index` passed on, if it did.
    func values(of index: Int) -> [String: String]? { values[index] }

    /// What the step passed on, for the step at `index` to read: nil when it reads no upstream value, else each
    /// `{{ steps.NAME.outputs.KEY }}` it holds, by its marker's name (``Template/marker(_:)``).
    func upstreamValues(for index: Int) -> [String: String]? {
        let step = steps[index]
        guard Self.readsValues(step) else { return nil }
        var found: [String: String] = [:]
        var texts = Array(step.environment.values)
        if case let .command(text) = step.action { texts.append(text) }
        for text in texts {
            for name in Template.markers(in: text) where name.hasPrefix("steps.") {
                let path = name.split(separator: ".", maxSplits: 3).map(String.init)
                guard path.count == 4 else { continue }
                found[name] = value(of: path[1], path[3], for: index).text
            }
        }
        return found
    }

    /// `KEY` as step `name` passed it on to the step at `reader`: the text it wrote (empty when it wrote none), or
    /// for a fan-out its instances' values in item order, as a list; but an instance paired with one instance of
    /// that fan-out (`sort[A]` after `map[A]`) reads that one's value.
    private func value(of name: String, _ key: String, for reader: Int) -> (text: String, list: [String]?) {
        func own(_ index: Int) -> String {
            values[index]?[key] ?? options.valuesBefore[steps[index].name]?[key] ?? ""
        }
        if let instances = instancesOf[name] {
            if let item = steps[reader].instance?.item {
                let paired = upstream[reader].filter { steps[$0].instance?.of == name }
                if paired.count == 1, instances.count > 1 || steps[paired[0]].instance?.item.value == item.value {
                    return (own(paired[0]), nil)
                }
            }
            let list = instances.map(own)
            return (OutputValues.list(list), list)
        }
        if let instances = options.instancesBefore[name] {
            let list = instances.map { options.valuesBefore[$0]?[key] ?? "" }
            return (OutputValues.list(list), list)
        }
        guard let index = stepIndex[name] else { return (options.valuesBefore[name]?[key] ?? "", nil) }
        return (own(index), nil)
    }

    /// The keys step `name` passed on, when it is a step of its own (not a fan-out) that has ended; nil otherwise.
    private func written(by name: String) -> [String]? {
        guard instancesOf[name] == nil, options.instancesBefore[name] == nil, let index = stepIndex[name], steps[index].instance == nil,
            outcomes[index] != nil || options.valuesBefore[name] != nil || options.statesBefore[name] != nil
        else { return nil }
        return Array((values[index] ?? options.valuesBefore[name] ?? [:]).keys)
    }

    /// Whether `step` holds `{{ steps.NAME.outputs.KEY }}` in its command or `env`.
    static func readsValues(_ step: Step) -> Bool {
        func reads(_ text: String) -> Bool { Template.hasMarkers(text) && text.contains("\u{0}steps.") }
        if case let .command(text) = step.action, reads(text) { return true }
        return step.environment.values.contains(where: reads)
    }

    /// Why `index` is skipped by its `if:`, with the values the condition saw; nil when it holds.
    private func unmet(_ condition: Condition, of index: Int) -> String? {
        let step = steps[index]
        let (holds, seen) = condition.evaluate { path in
            switch path[0] {
            case "params", "item":
                return Condition.value(of: path, parameters: conditionParameters, item: step.instance?.item)
            default:
                if path.count == 4 {
                    let value = value(of: path[1], path[3], for: index)
                    return value.list.map { .list($0.map(Condition.Value.text)) } ?? Condition.Value.reading(value.text)
                }
                let state = stepIndex[path[1]].flatMap { outcomes[$0]?.state } ?? options.statesBefore[path[1]]
                return .text(state?.rawValue ?? "not_run")
            }
        }
        return holds ? nil : condition.reason(seen)
    }

    /// Once the run has begun, nothing runs and nothing more can start: the steps left over are skipped, with the
    /// reason, and the run is over.
    private mutating func finishIfDone() -> [Action] {
        guard started, !finished, active.isEmpty, ready.isEmpty, readyElsewhere.isEmpty else { return [] }
        finished = true
        var actions: [Action] = []
        for index in order where outcomes[index] == nil {
            actions.append(.emit(.stepSkipped(step: steps[index].name, reason: stoppedBy ?? "not started")))
            outcomes[index] = StepOutcome(state: .skipped, skippedByFailure: !isCancelled)
        }
        let byName = Dictionary(uniqueKeysWithValues: outcomes.map { (steps[$0.key].name, $0.value) })
        return actions + [.finish(byName)]
    }
}

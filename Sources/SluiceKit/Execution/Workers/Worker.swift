import Foundation
import Synchronization

/// `sluice worker`: claims attempts from the shared store, runs them as local processes, and reports how they ended.
///
/// Each turn it renews the lease of what it holds, stops what was cancelled, and claims as many items as it has
/// free slots. It wakes on the store's notifications, when an attempt ends, and every `pollInterval`.
///
/// A worker that cannot renew its leases for a third of a lease period kills its attempts itself (SIGKILL), before
/// the store can count them lost and their retries start elsewhere: a step never runs twice at once.
public final class Worker: Sendable {
    /// Who the worker is, what it offers, and how long its claims last.
    public struct Settings: Sendable {
        public var name: String
        public var labels: [String]
        public var slots: Int
        /// The CPUs and memory its steps may use at once, by their `resources:` (defaults: the host's).
        public var cpus: Int
        public var memory: Int64
        /// Seconds a claim lasts without renewal.
        public var lease: Double
        var pollInterval: Double

        public init(
            name: String, labels: [String], slots: Int, cpus: Int = ProcessInfo.processInfo.activeProcessorCount,
            memory: Int64 = Int64(clamping: ProcessInfo.processInfo.physicalMemory), lease: Double = 30, pollInterval: Double = 1
        ) {
            self.name = name
            self.cpus = cpus
            self.memory = memory
            self.labels = labels
            self.slots = slots
            self.lease = lease
            self.pollInterval = pollInterval
        }
    }

    private struct Held {
        var executor: LocalExecutor
        var resources: StepResources
        var attempt: (any RunningAttempt)?
        var cancelling = false
    }

    private let queue: any WorkQueue
    public let settings: Settings
    private let held = Mutex([Int64: Held]())
    /// Results waiting to be stored (the store may be unreachable for a while).
    private let finished = Mutex([Int64: AttemptResult]())
    private let doorbell = Doorbell()
    private let log: @Sendable (String) -> Void

    public init(queue: any WorkQueue, settings: Settings, log: @escaping @Sendable (String) -> Void) {
        self.queue = queue
        self.settings = settings
        self.log = log
    }

    /// Works until the task is cancelled; then stops its attempts (SIGTERM, then SIGKILL after their grace period),
    /// reports them cancelled, and returns.
    public func run() async {
        let listening = Task { await queue.followWorkNotifications(asWorker: true) { [doorbell] in doorbell.ring() } }
        defer { listening.cancel() }
        // A turn gives up after a quarter lease, and turns are at most a quarter lease apart: a worker out of touch
        // for a third of its lease has killed its attempts well before the store can count them lost.
        let patience = settings.lease / 4
        var lastRenewal = ContinuousClock.now
        var lastSweep = ContinuousClock.now - .seconds(settings.lease)
        while !Task.isCancelled {
            let turnStarted = ContinuousClock.now
            if turnStarted - lastSweep >= .seconds(settings.lease) {
                lastSweep = turnStarted
                let ended = (try? await offPool { Self.endOrphans() }) ?? 0
                if ended > 0 { log("ended \(ended) process(es) left by a worker that died on this host") }
            }
            do {
                try await withTimeout(seconds: patience) { [self] in
                    try await report()
                    try await renew()
                }
                lastRenewal = turnStarted
                // What a claim answers after its timeout is dropped: the next renewal puts those items back.
                let free = settings.slots - held.withLock { $0.count } - finished.withLock { $0.count }
                let room = self.room()
                if free > 0, room.cpus > 0 {
                    let claimed = try await withTimeout(seconds: patience) { [queue, settings] in
                        try await queue.claimWork(worker: settings.name, labels: settings.labels, limit: free, room: room, lease: settings.lease)
                    }
                    claimed.forEach(start)
                }
            } catch {
                log("the store cannot be reached: \(StoreLocation.explain(error))")
                if ContinuousClock.now - lastRenewal > .seconds(settings.lease / 3) { fence() }
            }
            await doorbell.wait(timeout: .seconds(min(settings.pollInterval, patience)))
        }
        await stopAll()
    }

    /// The CPUs and memory the steps it holds leave free.
    private func room() -> StepResources {
        held.withLock { held in
            StepResources(
                cpus: settings.cpus - held.values.reduce(0) { $0 + $1.resources.cpus },
                memory: settings.memory - held.values.reduce(0) { $0 + ($1.resources.memory ?? 0) })
        }
    }

    /// Stores the results of attempts that ended; a result the store refuses belonged to an item that was lost.
    private func report() async throws {
        for (id, result) in finished.withLock({ $0 }) {
            let accepted = try await queue.completeWork(id, worker: settings.name, result: result)
            finished.withLock { _ = $0.removeValue(forKey: id) }
            if !accepted { log("item \(id): its result was discarded, the item is no longer this worker's") }
        }
    }

    private func renew() async throws {
        let states = try await queue.renewWork(worker: settings.name, lease: settings.lease)
        let ids = held.withLock { Array($0.keys) }
        // Claimed in the store but not here: a claim whose answer was lost to a timeout. Ended ones wait in `finished`.
        let unknown = states.keys.filter { id in !ids.contains(id) && finished.withLock { $0[id] == nil } }
        if !unknown.isEmpty { try await queue.releaseWork(unknown, worker: settings.name) }
        for id in ids {
            switch states[id] {
            case .cancelling?:
                let attempt = held.withLock { held -> (any RunningAttempt)? in
                    guard held[id]?.cancelling == false else { return nil }
                    held[id]!.cancelling = true
                    return held[id]!.attempt
                }
                attempt?.cancel()
            case nil:
                // Lost meanwhile (this worker was cut off long enough): its result would be refused anyway.
                if let gone = held.withLock({ $0.removeValue(forKey: id) }) {
                    log("item \(id) is no longer this worker's: its process is killed")
                    gone.executor.killAll()
                }
            default: break
            }
        }
    }

    private func start(_ work: ClaimedWork) {
        let id = work.id
        let identity = work.order.launch.identity
        log("running \(identity.runID) \(identity.name) (item \(id))")
        let executor = LocalExecutor(gracePeriod: work.order.gracePeriod, logLimit: work.order.logLimit)
        // Held before it starts: a step that cannot start completes within `start`.
        held.withLock { $0[id] = Held(executor: executor, resources: work.order.launch.resources ?? StepResources()) }
        var launch = work.order.launch
        launch.environment.append("\(Self.ownerVariable)=\(getpid())")
        let attempt = executor.start(
            launch, timeout: work.order.timeout,
            onStart: { [self] pid in
                Task { try? await queue.recordWorkStarted(id, worker: settings.name, pid: pid) }
            },
            completion: { [self] result in
                // Not held any more: killed because it was lost, its result is not wanted.
                guard held.withLock({ $0[id] != nil }) else { return }
                log("\(identity.runID) \(identity.name) \(result.state.rawValue)")
                // In `finished` before it leaves `held`, so that a turn never finds it in neither.
                finished.withLock { $0[id] = result }
                held.withLock { _ = $0.removeValue(forKey: id) }
                doorbell.ring()
            })
        let cancelledMeanwhile = held.withLock { held -> Bool in
            held[id]?.attempt = attempt
            return held[id]?.cancelling == true
        }
        if cancelledMeanwhile { attempt.cancel() }
    }

    /// Out of touch for a third of the lease: the store will soon count these attempts lost and retry them elsewhere.
    /// They are killed now, and reported failed if the store still counts them this worker's when it answers again.
    private func fence() {
        let gone = held.withLock { held in
            defer { held = [:] }
            return held
        }
        guard !gone.isEmpty else { return }
        log("no contact with the store for a third of the lease: killing \(gone.count) attempt(s), which will be retried elsewhere")
        let failure = AttemptResult(
            state: .failed, exitCode: nil, signal: SIGKILL,
            error: "worker \(settings.name) lost contact with the store and killed the step", startedAt: Date(),
            finishedAt: Date(), peakMemoryKB: nil, userCPU: 0, systemCPU: 0)
        finished.withLock { finished in for id in gone.keys { finished[id] = failure } }
        for item in gone.values { item.executor.killAll() }
    }

    /// Marks a worker's step processes, and what they start, with the worker's process id.
    private static let ownerVariable = "SLUICE_WORKER_PID"

    /// A worker killed with SIGKILL leaves its steps running. Every worker on the host ends such orphans when it
    /// starts and once per lease period after: a restarted worker cleans up after the one it replaces.
    private static func endOrphans() -> Int {
        ProcessTable.end {
            ProcessTable.processes { variables in
                guard let owner = ProcessTable.value(of: ownerVariable, in: variables).flatMap({ Int32($0) }) else { return false }
                return owner != getpid() && !ProcessTable.isAlive(owner)
            }
        }
    }

    private func stopAll() async {
        let running = held.withLock { $0.values.compactMap(\.attempt) }
        for attempt in running { attempt.cancel() }
        // Each completion stores its result in `finished`; wait for them all, then report them.
        while !held.withLock({ $0.isEmpty }) { await doorbell.wait(timeout: .milliseconds(100)) }
        try? await report()
    }
}

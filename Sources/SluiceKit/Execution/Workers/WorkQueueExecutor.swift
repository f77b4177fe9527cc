import Foundation
import Synchronization

/// Runs attempts on `sluice worker` processes: queues each one in the shared store and reports it started and
/// ended as the workers record it. The run itself (its DAG, retries, trigger rules, recovery) stays with the
/// process that runs it; a worker only runs processes.
///
/// One watcher per executor reads the progress of every queued attempt in one query, when the store's
/// notifications say something changed, and at least every second (notifications are lost when the listening
/// connection drops). A worker that stops renewing its lease loses the attempt, which then fails and is retried
/// by the step's retry policy like any failure.
final class WorkQueueExecutor: StepExecutor {
    private let queue: any WorkQueue
    private let gracePeriod: Double
    private let logLimit: Int64
    /// Attempts queued and not ended, by item id.
    private let waiting = Mutex([Int64: WorkTicket]())
    private let doorbell = Doorbell()
    private let watcher = Mutex<Task<Void, Never>?>(nil)
    /// Callbacks run here, never on the cooperative pool: the scheduler's completion may block on the store.
    private let callbacks = DispatchQueue(label: "sluice.workers")

    public init(queue: any WorkQueue, gracePeriod: Double, logLimit: Int64) {
        self.queue = queue
        self.gracePeriod = gracePeriod
        self.logLimit = logLimit
    }

    deinit { watcher.withLock { $0?.cancel() } }

    public func start(
        _ launch: LaunchSpec, timeout: Double?, onStart: @escaping @Sendable (Int32) -> Void,
        completion: @escaping @Sendable (AttemptResult) -> Void
    ) -> any RunningAttempt {
        let ticket = WorkTicket(onStart: onStart, completion: completion, callbacks: callbacks)
        let order = AttemptOrder(launch: launch, timeout: timeout, gracePeriod: gracePeriod, logLimit: logLimit)
        Task { [self] in
            do {
                let id = try await queue.enqueue(order, labels: launch.placement.labels)
                waiting.withLock { $0[id] = ticket }
                if ticket.queued(as: id) { await cancel(id) }
                watchIfIdle()
                doorbell.ring()
            } catch {
                ticket.end(.notStarted(at: Date(), error: "cannot queue it for workers: \(StoreLocation.explain(error))"))
            }
        }
        return WorkAttempt(ticket: ticket, executor: self)
    }

    fileprivate func cancel(_ id: Int64) async {
        let cancelled = AttemptResult(
            state: .cancelled, exitCode: nil, signal: nil, error: "cancelled", startedAt: Date(), finishedAt: Date(),
            peakMemoryKB: nil, userCPU: 0, systemCPU: 0)
        // Tried again every second until the store takes it or the attempt ends: a dropped connection must not lose it.
        while waiting.withLock({ $0[id] != nil }) {
            if (try? await queue.cancelWork(id, cancelled: cancelled)) != nil { break }
            try? await Task.sleep(for: .seconds(1))
        }
        doorbell.ring()
    }

    private func watchIfIdle() {
        watcher.withLock { watcher in
            guard watcher == nil else { return }
            let queue = queue, doorbell = doorbell
            watcher = Task { [weak self] in
                let listening = Task { await queue.followWorkNotifications(asWorker: false) { doorbell.ring() } }
                defer { listening.cancel() }
                while !Task.isCancelled {
                    await self?.check()
                    await doorbell.wait(timeout: .seconds(1))
                }
            }
        }
    }

    /// Reads every waiting attempt's progress and reports what changed.
    private func check() async {
        let ids = waiting.withLock { Array($0.keys) }
        guard !ids.isEmpty, let progress = try? await queue.progress(of: ids) else { return }
        for item in progress {
            switch item.state {
            case .ready: continue
            case .claimed, .cancelling:
                waiting.withLock { $0[item.id] }?.started(pid: item.pid ?? 0)
            case .done, .lost:
                guard let ticket = waiting.withLock({ $0.removeValue(forKey: item.id) }) else { continue }
                if let pid = item.pid { ticket.started(pid: pid) }
                ticket.end(item.result ?? .lost(worker: item.worker))
            }
        }
    }
}

/// One queued attempt, as the scheduler sees it.
private final class WorkTicket: Sendable {
    private struct State {
        var id: Int64?
        var cancelRequested = false
        var started = false
        var ended = false
    }

    private let state = Mutex(State())
    private let onStart: @Sendable (Int32) -> Void
    private let completion: @Sendable (AttemptResult) -> Void
    private let callbacks: DispatchQueue

    init(onStart: @escaping @Sendable (Int32) -> Void, completion: @escaping @Sendable (AttemptResult) -> Void, callbacks: DispatchQueue) {
        self.onStart = onStart
        self.completion = completion
        self.callbacks = callbacks
    }

    /// Records the item's id; returns whether a cancel came first and must now be sent.
    func queued(as id: Int64) -> Bool {
        state.withLock { state in
            state.id = id
            return state.cancelRequested
        }
    }

    /// Returns the id to cancel, if the item is queued already.
    func requestCancel() -> Int64? {
        state.withLock { state in
            state.cancelRequested = true
            return state.id
        }
    }

    func started(pid: Int32) {
        let first = state.withLock { state in
            defer { state.started = true }
            return !state.started
        }
        if first { callbacks.async { self.onStart(pid) } }
    }

    func end(_ result: AttemptResult) {
        let first = state.withLock { state in
            defer { state.ended = true }
            return !state.ended
        }
        if first { callbacks.async { self.completion(result) } }
    }
}

private struct WorkAttempt: RunningAttempt {
    let ticket: WorkTicket
    let executor: WorkQueueExecutor
    func cancel() {
        guard let id = ticket.requestCancel() else { return }
        Task { await executor.cancel(id) }
    }
}

extension AttemptResult {
    /// The end of an attempt whose worker stopped renewing its lease (killed, cut off): a failure, retried as any.
    static func lost(worker: String?) -> AttemptResult {
        AttemptResult(
            state: .failed, exitCode: nil, signal: nil,
            error: "worker \(worker ?? "?") stopped answering (its lease expired); the attempt is counted as failed",
            startedAt: Date(), finishedAt: Date(), peakMemoryKB: nil, userCPU: 0, systemCPU: 0)
    }
}

import Foundation

/// Starts runs in the background of a long-lived process (the server, the scheduler) and keeps their tasks, so
/// they can be cancelled and, at shutdown, ended cleanly (steps terminated and recorded).
public actor RunLauncher {
    private let runner: PipelineRunner
    /// Called after each batch of a run's events is stored, and when a run ends.
    private let onEvents: @Sendable () -> Void
    /// Where errors of runs go (they have no terminal): the process's standard error by default.
    private let log: @Sendable (String) -> Void
    private var running: [String: Task<Void, Never>] = [:]

    public init(
        runner: PipelineRunner, onEvents: @escaping @Sendable () -> Void = {},
        log: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data("\(Date()) \($0)\n".utf8)) }
    ) {
        self.runner = runner
        self.onEvents = onEvents
        self.log = log
    }

    /// Records the run and starts it; returns as soon as it is recorded.
    /// `upstream` gives the steps what steps that do not run passed on in an earlier run (a retry's).
    public func start(_ prepared: PreparedRun, upstream: UpstreamRun? = nil) async throws -> RunRecord {
        let record = try await runner.record(prepared)
        run(prepared, as: record, upstream: upstream)
        return record
    }

    /// Starts a run recorded already. With a gate, the run stays queued until the gate lets it through (a backfill's
    /// runs, a few at a time).
    public func run(_ prepared: PreparedRun, as record: RunRecord, upstream: UpstreamRun? = nil, gate: AsyncGate? = nil) {
        track(record.id) { runner, observer in
            // Its lease is kept while it waits at the gate, or another process would take it for abandoned.
            let heartbeat = gate.map { _ in LeaseHeartbeat(runID: record.id, store: runner.store) }
            // Cancelled at the gate: the run goes on to record itself cancelled while queued.
            let entered = (try? await gate?.enter()) != nil
            heartbeat?.stop()
            defer { if entered { gate?.leave() } }
            return try await runner.run(prepared, as: record, upstream: upstream, observer: observer)
        }
    }

    /// Continues a run claimed for this process.
    public func resume(_ resumption: Resumption) {
        track(resumption.record.id) { runner, observer in try await runner.run(resumption, observer: observer) }
    }

    private func track(
        _ id: String, _ body: @escaping @Sendable (PipelineRunner, @escaping @Sendable ([RunEvent]) -> Void) async throws -> RunOutcome
    ) {
        let runner = runner, onEvents = onEvents, log = log
        // Owned from now on, before its task starts: this process's recovery must not take it for another's.
        OwnedRuns.insert(id)
        running[id] = Task {
            // The observer sees each batch after the store has it.
            do { _ = try await body(runner) { _ in onEvents() } } catch {
                // Its state could not be recorded (a store write failed): said, and recorded failed if the store takes
                // it now; else the periodic recovery (``RunRecovery/keepRecovering(in:every:log:)``) marks it interrupted.
                log("run \(id) stopped: \(StoreLocation.explain(error))")
                await runner.recordStopped(id, because: error)
            }
            OwnedRuns.remove(id)
            _ = CancelReasons.take(id)
            self.finished(id)
            onEvents()
        }
    }

    /// Waits until the run `id` has ended, if this process runs it (the store has how it ended).
    public func wait(for id: String) async { await running[id]?.value }

    /// Cancels a run of this process, its stopped and skipped steps saying why, if `reason` says; false when it is
    /// not one (finished, or run by another process).
    public func cancel(_ id: String, because reason: String? = nil) -> Bool {
        guard let task = running[id] else { return false }
        if let reason { CancelReasons.set(reason, for: id) }
        task.cancel()
        return true
    }

    public var activeCount: Int { running.count }

    public func owns(_ id: String) -> Bool { running[id] != nil }

    /// Cancels every run, saying `reason` (the server or scheduler shut down), and waits until each has recorded
    /// its final state.
    public func shutdown(because reason: String) async {
        let tasks = Array(running.values)
        for id in running.keys { CancelReasons.set(reason, for: id) }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    private func finished(_ id: String) { running[id] = nil }
}

import Foundation
import SluiceKit

/// Starts runs inside the server process and keeps their tasks, so they can be cancelled and, at shutdown,
/// ended cleanly (steps terminated and recorded).
actor RunLauncher {
    private let runner: PipelineRunner
    private let doorbell: Doorbell
    private var running: [String: Task<Void, Never>] = [:]

    init(doorbell: Doorbell, runner: PipelineRunner) {
        self.doorbell = doorbell
        self.runner = runner
    }

    /// Records the run and starts it; returns as soon as it is recorded.
    func start(_ prepared: PreparedRun) async throws -> RunRecord {
        let record = try await runner.record(prepared)
        launch(record.id) { runner, observer in try await runner.run(prepared, as: record, observer: observer) }
        return record
    }

    /// Continues a run claimed for this process.
    func resume(_ resumption: Resumption) {
        launch(resumption.record.id) { runner, observer in try await runner.run(resumption, observer: observer) }
    }

    private func launch(_ id: String, _ body: @escaping @Sendable (PipelineRunner, @escaping @Sendable ([RunEvent]) -> Void) async throws -> RunOutcome) {
        let runner = runner, doorbell = doorbell
        running[id] = Task {
            // The observer sees each batch after the store has it.
            _ = try? await body(runner) { _ in doorbell.ring() }
            self.finished(id)
            doorbell.ring()
        }
    }

    /// Cancels a run of this process; false when it is not one (finished, or run by another process).
    func cancel(_ id: String) -> Bool {
        guard let task = running[id] else { return false }
        task.cancel()
        return true
    }

    var activeCount: Int { running.count }

    func owns(_ id: String) -> Bool { running[id] != nil }

    /// Cancels every run and waits until each has recorded its final state.
    func shutdown() async {
        let tasks = Array(running.values)
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    private func finished(_ id: String) { running[id] = nil }
}

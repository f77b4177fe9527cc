/// A retry of a run: a new run of its steps that did not succeed (or were not reached), with its parameters but those
/// a retry changes. The steps that succeeded are not run again and count as done for those that depend on them.
/// The API and `sluice retry` both ask it.
public enum RunRetry {
    /// What the new run is: its steps, its parameters and its trigger (`retry:ID`).
    public struct Plan: Sendable {
        public var selection: Selection
        public var parameters: [String: String]
        public var trigger: String
        /// What the steps that succeeded passed on, and left in `outputs/`, for the steps that run again.
        public var upstream: UpstreamRun
    }

    public static func plan(
        of run: RunRecord, pipeline: Pipeline, store: any RunStore, changing changes: [String: String] = [:]
    ) async throws -> Plan {
        guard run.status != .running, run.status != .queued else { throw SluiceError(.conflict, "run \(run.id) is still running") }
        let rows = try await store.stepRuns(runID: run.id)
        let steps = rows.filter { !$0.state.isSuccess }.map(\.step)
        // A successful run's skipped steps were skipped by their rules with nothing to do (an alert): not to run again.
        guard !steps.isEmpty, run.status != .success else {
            throw SluiceError(.nothingToDo, "run \(run.id) succeeded; there is nothing to retry")
        }
        return Plan(
            selection: Selection(only: steps), parameters: run.parameters.merging(changes) { _, changed in changed },
            trigger: "retry:\(run.id)", upstream: .succeeded(in: run, rows: rows, pipeline: pipeline, copyingOutputs: true))
    }
}

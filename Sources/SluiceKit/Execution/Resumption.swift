import Foundation

/// A run taken over to be continued (`sluice resume`, `POST /api/runs/{id}/resume`): its steps that did not
/// succeed run again, under the same id, in the same directory, with the same parameters; the steps that
/// succeeded count as done. Attempts are numbered after the ones the run already made.
public struct Resumption: Sendable {
    public let prepared: PreparedRun
    /// The run, running again under this process's lease.
    public let record: RunRecord
    let attemptsBefore: [String: Int]
    /// How the steps it does not run again ended and what they passed on, in its own directory already.
    let earlier: UpstreamRun

    /// Checks that `record` can be resumed with `pipeline` as it is now, then claims it. The claim is one
    /// conditional update in the store: of two processes resuming the same run at once, exactly one gets it.
    public static func claim(
        _ record: RunRecord, pipeline: Pipeline, store: any RunStore, jobs: Int, capacity: RunCapacity = RunCapacity(),
        continueOnError: Bool = false,
        secrets: [String: String] = [:], secretsInEnvironmentFile: Bool = false,
        workspace: String = FileManager.default.currentDirectoryPath
    ) async throws -> Resumption {
        guard record.status != .running, record.status != .queued else {
            throw SluiceError(
                .conflict,
                "run \(record.id) is running, owned by Sluice process \(record.ownerPID) on \(record.ownerHost ?? RunLease.host); resume it after it has ended"
            )
        }
        let steps = try await store.stepRuns(runID: record.id)
        let unfinished = steps.filter { !$0.state.isSuccess }.map(\.step)
        // A successful run's skipped steps were skipped by their rules with nothing to do (an alert): not to run again.
        guard !unfinished.isEmpty, record.status != .success else {
            throw SluiceError(.nothingToDo, "run \(record.id) has nothing to resume: it succeeded")
        }
        var request = RunRequest(
            pipeline: pipeline, selection: Selection(only: unfinished), parameters: record.parameters,
            trigger: record.trigger, jobs: jobs, continueOnError: continueOnError, secrets: secrets,
            secretsInEnvironmentFile: secretsInEnvironmentFile, workspace: workspace)
        request.capacity = capacity
        let prepared: PreparedRun
        do { prepared = try PipelineRunner.prepare(request) } catch {
            var refused = error
            refused.message = "cannot resume run \(record.id) with its pipeline as it is now: \(error.message)"
            throw refused
        }
        guard let claimed = try await store.claimForResume(runID: record.id, steps: unfinished) else {
            throw SluiceError(.conflict, "run \(record.id) was taken over by another Sluice process")
        }
        let attempts = Dictionary(try await store.attempts(runID: record.id).map { ($0.step, $0.attempt) }, uniquingKeysWith: max)
        return Resumption(
            prepared: prepared, record: claimed, attemptsBefore: attempts,
            earlier: .succeeded(in: record, rows: steps, pipeline: pipeline, copyingOutputs: false))
    }
}

extension PipelineRunner {
    /// Runs a claimed resumption to the end.
    public func run(_ resumption: Resumption, observer: @escaping @Sendable ([RunEvent]) -> Void = { _ in }) async throws -> RunOutcome {
        try await run(
            resumption.prepared, as: resumption.record, attemptsBefore: resumption.attemptsBefore, upstream: resumption.earlier,
            observer: observer)
    }
}

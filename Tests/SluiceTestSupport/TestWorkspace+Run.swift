import Foundation
import SluiceKit

extension TestWorkspace {
    /// The workspace's store (a real SQLite file).
    public func store() throws -> SQLiteRunStore { try SQLiteRunStore(path: storePath) }

    public func runner(gracePeriod: Double = 2) throws -> PipelineRunner {
        PipelineRunner(
            store: try store(), executor: LocalExecutor(gracePeriod: gracePeriod), workspace: root,
            runsDirectory: runsDirectory, pipelinesDirectory: pipelinesDirectory)
    }

    /// Validates, plans and runs pipeline `name` in this process, with real child processes.
    public func run(
        _ name: String, selection: Selection = Selection(), parameters: [String: String] = [:], jobs: Int = 4,
        continueOnError: Bool = false, force: Bool = false, gracePeriod: Double = 2,
        observer: @escaping @Sendable ([RunEvent]) -> Void = { _ in }
    ) async throws -> RunOutcome {
        let request = RunRequest(
            pipeline: try load(name), selection: selection, parameters: parameters, jobs: jobs,
            continueOnError: continueOnError, force: force, workspace: root)
        return try await runner(gracePeriod: gracePeriod).run(try PipelineRunner.prepare(request), observer: observer)
    }
}

extension RunOutcome {
    /// The recorded state of one step.
    public func step(_ name: String) -> StepRunRecord? { steps.first { $0.step == name } }
}

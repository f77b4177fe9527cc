/// Setting or clearing a step's tested mark: recorded in the store and shown in the pipeline's status file at once.
/// `sluice mark-tested` and the API both ask it.
public enum TestedMark {
    /// The step's status with its new mark.
    @discardableResult
    public static func set(
        _ tested: Bool, step: String, of pipeline: Pipeline, store: any RunStore, pipelinesDirectory: String
    ) async throws -> StepStatusRecord {
        guard pipeline.step(named: step) != nil else {
            throw SluiceError(.notFound, "pipeline '\(pipeline.id)' has no step '\(step)'", step: step)
        }
        try await store.setTested(pipeline: pipeline.id, step: step, tested: tested)
        try await StatusFile.refresh(pipeline, from: store, pipelinesDirectory: pipelinesDirectory)
        // The store keeps a status row for every step it was told about: the one just written is there.
        return try await store.stepStatuses(pipeline: pipeline.id).first { $0.step == step }
            ?? StepStatusRecord(pipeline: pipeline.id, step: step, completed: false, tested: tested)
    }
}

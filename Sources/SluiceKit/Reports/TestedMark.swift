/// Setting or clearing a step's tested mark: recorded in the store and shown in the pipeline's status file at once.
/// `sluice mark-tested` and the API both ask it.
public enum TestedMark {
    /// The step's status with its new mark.
    @discardableResult
    public static func set(
        _ tested: Bool, step: String, of pipeline: Pipeline, store: any RunStore, pipelinesDirectory: String
    ) async throws -> StepStatusRecord {
        guard pipeline.step(orInstance: step) != nil else {
            throw SluiceError(.notFound, "pipeline '\(pipeline.id)' has no step '\(step)'", step: step)
        }
        try await store.setTested(pipeline: pipeline.id, step: step, tested: tested)
        try await StatusFile.refresh(pipeline, from: store, pipelinesDirectory: pipelinesDirectory)
        guard let status = try await store.stepStatuses(pipeline: pipeline.id).first(where: { $0.step == step }) else {
            throw SluiceError(.store, "the tested mark of '\(step)' was not recorded", step: step)
        }
        return status
    }
}

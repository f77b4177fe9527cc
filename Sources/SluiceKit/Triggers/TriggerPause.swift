import Foundation

/// Pausing and resuming a pipeline's schedules and watches, for the command line and the API alike.
public enum TriggerPause {
    /// Pauses or resumes `pipeline`'s triggers in `store`, for every process serving it. On resume, a schedule whose
    /// `catch_up` is `none` records the times due while paused as handled: a time that passed a moment before the
    /// resume was missed, not due now, and must not run.
    public static func set(_ paused: Bool, pipeline: Pipeline, store: any RunStore, now: Date = Date()) async throws {
        try await store.setPaused(pipeline: pipeline.id, paused: paused)
        guard !paused else { return }
        for schedule in pipeline.schedules where schedule.catchUp == .none {
            // False when nothing was due since the last handled time, or the trigger was never seen: both fine.
            _ = try await store.advanceTrigger(.scheduled(pipeline: pipeline.id, trigger: schedule.name, at: now))
        }
    }
}

/// The final state of one step of a run, as its downstream steps' trigger rules and the run's status see it.
struct StepOutcome: Sendable, Equatable {
    var state: StepState
    /// A failure that `allow_failure` tolerates.
    var allowed = false
    /// A failure whose `on_failure` recovery succeeded.
    var recovered = false
    /// Skipped because of a failure upstream (rather than a trigger rule with nothing to do).
    var skippedByFailure = false

    /// Counts as success for `all_success` downstream steps.
    var isSuccess: Bool { state.isSuccess || allowed }
}

/// Runs attempts of steps somewhere: local processes now, Slurm jobs or remote workers later.
public protocol StepExecutor: Sendable {
    /// Starts one attempt and returns at once. `onStart` receives the process id before `completion` can run;
    /// `completion` runs exactly once, on a thread of the executor's, when the attempt has ended.
    func start(
        _ launch: LaunchSpec, timeout: Double?, onStart: @escaping @Sendable (Int32) -> Void,
        completion: @escaping @Sendable (AttemptResult) -> Void
    ) -> any RunningAttempt
}

/// An attempt that has been started.
public protocol RunningAttempt: Sendable {
    /// Stops it: SIGTERM, then SIGKILL after the grace period. Its result is then `cancelled`.
    func cancel()
}

/// Runs one attempt of a step somewhere: a local process now, a Slurm job or a remote worker later.
public protocol StepExecutor: Sendable {
    /// Runs the attempt to its end. `onStart` receives the process id as soon as it exists.
    /// Cancelling the calling task stops the attempt (its result is then `cancelled`).
    func run(_ launch: LaunchSpec, timeout: Double?, onStart: @escaping @Sendable (Int32) -> Void) async -> AttemptResult
}

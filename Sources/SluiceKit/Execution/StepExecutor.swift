/// Runs attempts of steps somewhere: local processes, remote workers or Slurm jobs.
public protocol StepExecutor: Sendable {
    /// Starts one attempt and returns at once. `onStart` receives the process id before `completion` can run;
    /// `completion` runs exactly once, on a thread of the executor's, when the attempt has ended.
    func start(
        _ launch: LaunchSpec, timeout: Double?, onStart: @escaping @Sendable (Int32) -> Void,
        completion: @escaping @Sendable (AttemptResult) -> Void
    ) -> any RunningAttempt

    /// Starts attempts that became ready together, and returns their handles in the same order. An executor that
    /// submits work in bulk overrides it: Slurm submits a fan-out's instances as one job array.
    func start(_ attempts: [AttemptStart]) -> [any RunningAttempt]

    /// Whether attempts placed so wait in this executor's own queue (a cluster's scheduler) rather than for one of
    /// the run's `jobs` slots.
    func queuesItself(_ placement: StepPlacement) -> Bool
    /// Whether such attempts run on this machine, where their `resources:` count against the run's CPUs and memory.
    func runsHere(_ placement: StepPlacement) -> Bool
}

extension StepExecutor {
    public func start(_ attempts: [AttemptStart]) -> [any RunningAttempt] {
        attempts.map { start($0.launch, timeout: $0.timeout, onStart: $0.onStart, completion: $0.completion) }
    }

    public func queuesItself(_ placement: StepPlacement) -> Bool { false }
    public func runsHere(_ placement: StepPlacement) -> Bool { true }
}

/// One attempt to start, as ``StepExecutor/start(_:timeout:onStart:completion:)`` takes it.
public struct AttemptStart: Sendable {
    public var launch: LaunchSpec
    public var timeout: Double?
    public var onStart: @Sendable (Int32) -> Void
    public var completion: @Sendable (AttemptResult) -> Void

    public init(
        _ launch: LaunchSpec, timeout: Double?, onStart: @escaping @Sendable (Int32) -> Void,
        completion: @escaping @Sendable (AttemptResult) -> Void
    ) {
        self.launch = launch
        self.timeout = timeout
        self.onStart = onStart
        self.completion = completion
    }
}

/// An attempt that has been started.
public protocol RunningAttempt: Sendable {
    /// Stops it: SIGTERM, then SIGKILL after the grace period. Its result is then `cancelled`.
    func cancel()
}

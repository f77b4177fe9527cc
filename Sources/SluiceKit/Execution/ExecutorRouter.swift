import Foundation

/// Hands each attempt to the executor its step asks for (`executor:` in the pipeline file), or to the workspace's
/// default one: so the same pipeline file runs locally, on workers or on Slurm.
public final class ExecutorRouter: StepExecutor {
    public let local: LocalExecutor
    private let defaultKind: ExecutorKind
    private let others: [ExecutorKind: any StepExecutor]
    /// Why an executor cannot be used here (workers without a PostgreSQL store), for the attempts that ask for it.
    private let unavailable: [ExecutorKind: String]

    public init(
        local: LocalExecutor, defaultKind: ExecutorKind = .local, others: [ExecutorKind: any StepExecutor] = [:],
        unavailable: [ExecutorKind: String] = [:]
    ) {
        self.local = local
        self.defaultKind = defaultKind
        self.others = others
        self.unavailable = unavailable
    }

    public func start(
        _ launch: LaunchSpec, timeout: Double?, onStart: @escaping @Sendable (Int32) -> Void,
        completion: @escaping @Sendable (AttemptResult) -> Void
    ) -> any RunningAttempt {
        let kind = kind(of: launch.placement)
        if kind == .local { return local.start(launch, timeout: timeout, onStart: onStart, completion: completion) }
        guard let executor = others[kind] else {
            completion(
                .notStarted(
                    at: Date(),
                    error: "step '\(launch.identity.step)' asks for the \(kind.rawValue) executor, but "
                        + (unavailable[kind] ?? "this process has none")))
            return NothingRunning()
        }
        return executor.start(launch, timeout: timeout, onStart: onStart, completion: completion)
    }

    /// Each executor gets its attempts together, so that Slurm can submit them as job arrays.
    public func start(_ attempts: [AttemptStart]) -> [any RunningAttempt] {
        var running = [(any RunningAttempt)?](repeating: nil, count: attempts.count)
        for (kind, indices) in Dictionary(grouping: attempts.indices, by: { kind(of: attempts[$0].launch.placement) }) {
            let started =
                if kind != .local, let executor = others[kind] {
                    executor.start(indices.map { attempts[$0] })
                } else {
                    indices.map { attempts[$0] }.map { start($0.launch, timeout: $0.timeout, onStart: $0.onStart, completion: $0.completion) }
                }
            for (index, attempt) in zip(indices, started) { running[index] = attempt }
        }
        return running.map { $0! }
    }

    public func queuesItself(_ placement: StepPlacement) -> Bool {
        others[kind(of: placement)]?.queuesItself(placement) ?? false
    }

    public func runsHere(_ placement: StepPlacement) -> Bool { kind(of: placement) == .local }

    private func kind(of placement: StepPlacement) -> ExecutorKind { placement.executor ?? defaultKind }

    /// Sends SIGKILL to every local step now (a second Ctrl-C); jobs elsewhere are cancelled through their attempts.
    public func killAll() { local.killAll() }
}

private struct NothingRunning: RunningAttempt {
    func cancel() {}
}

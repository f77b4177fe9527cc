/// Which executor runs a step's attempts: child processes of the Sluice process that runs the run (`local`),
/// `sluice worker` processes on any host sharing a PostgreSQL store (`workers`), or Slurm jobs (`slurm`).
public enum ExecutorKind: String, Sendable, Codable, CaseIterable {
    case local, workers, slurm
}

/// `slurm:` of a pipeline or a step: what `sbatch` is asked for. A step's fields override its pipeline's.
public struct SlurmRequest: Sendable, Codable, Equatable {
    public var partition: String?
    public var cpus: Int?
    /// As `sbatch --mem` takes it: `512M`, `4G`.
    public var memory: String?
    /// Slurm's time limit, in seconds (rounded up to whole minutes for `sbatch --time`). Without it, the step's
    /// `timeout` plus a minute is asked for, so that Slurm never ends a job before Sluice's own timeout does.
    public var time: Double?
    /// Further `sbatch` options, passed as they are: `["--qos=long", "--constraint=avx2"]`.
    public var flags: [String] = []

    public init(partition: String? = nil, cpus: Int? = nil, memory: String? = nil, time: Double? = nil, flags: [String] = []) {
        self.partition = partition
        self.cpus = cpus
        self.memory = memory
        self.time = time
        self.flags = flags
    }

    /// These settings, with `base`'s where these have none.
    func over(_ base: SlurmRequest) -> SlurmRequest {
        SlurmRequest(
            partition: partition ?? base.partition, cpus: cpus ?? base.cpus, memory: memory ?? base.memory,
            time: time ?? base.time, flags: base.flags + flags)
    }
}

/// Where one step runs, as its pipeline file says. A nil executor means the workspace's `executor` setting, so the
/// same file runs locally, on workers or on Slurm without a change.
public struct StepPlacement: Sendable, Codable, Equatable {
    public var executor: ExecutorKind?
    /// `runs_on:` labels a worker must have to take the step (workers only).
    public var labels: [String] = []
    public var slurm = SlurmRequest()

    public init(executor: ExecutorKind? = nil, labels: [String] = [], slurm: SlurmRequest = SlurmRequest()) {
        self.executor = executor
        self.labels = labels
        self.slurm = slurm
    }
}

extension Pipeline {
    /// Steps whose `slurm:` or `runs_on:` settings their executor does not use, as warnings: without them such a
    /// setting would be ignored without a word when the workspace runs steps locally.
    public func ignoredPlacements(defaultExecutor: ExecutorKind) -> [Diagnostic] {
        steps.compactMap { step in
            // Its own `slurm:` settings, not those its `resources:` make on Slurm.
            let placement = placement(of: step), kind = placement.executor ?? defaultExecutor
            let ignored = [
                kind != .slurm && step.placement.slurm.over(self.placement.slurm) != SlurmRequest() ? "slurm:" : nil,
                kind != .workers && !placement.labels.isEmpty ? "runs_on:" : nil,
            ].compactMap { $0 }
            guard !ignored.isEmpty else { return nil }
            var warning = Diagnostic(
                .ignoredSetting, at: step.location,
                "step '\(step.name)' runs on the \(kind.rawValue) executor, which ignores its \(ignored.joined(separator: " and "))",
                fix: "set 'executor:' on the step or its pipeline (or the workspace's executor setting), or remove the setting")
            warning.severity = .warning
            return warning
        }
    }
}

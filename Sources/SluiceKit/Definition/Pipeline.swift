/// A pipeline as declared in one YAML file: its steps, parameters and named modes.
public struct Pipeline: Sendable {
    /// The identifier used on the command line: the YAML file's base name (or its folder's, for `NAME/pipeline.yaml`).
    public var id: String
    /// The human-readable `name` from the file.
    public var name: String
    public var description: String
    /// Path of the YAML file.
    public var file: String
    /// Folder the step scripts are resolved against.
    public var scriptsDirectory: String
    public var steps: [Step]
    /// Once fan-outs are expanded for a run: those that had no items, and so no step of their own any more. What
    /// they pass on is an empty list.
    var emptyFanOuts: [String] = []
    public var parameters: [ParameterSpec]
    public var modes: [Mode]
    public var environment: [String: String]
    /// Names of secrets every step gets in its environment; their values are masked in everything Sluice writes.
    public var secrets: [String]
    /// Working directory of every step, relative to the workspace; nil means the workspace itself.
    public var workdir: String?
    /// Where to report a failed or partially successful run, besides the run directory.
    public var notify: [NotificationTarget] = []
    /// What happens to a run started while another run of this pipeline is running or queued.
    public var concurrency: ConcurrencyPolicy = .allow
    /// When it starts by itself: cron schedules and watched folders.
    public var schedules: [Schedule] = []
    public var watches: [FileWatch] = []
    /// `executor:` and `slurm:` for every step (a step's own settings win).
    public var placement = StepPlacement()
    /// What validation found probably not meant, though the pipeline runs (``Diagnostic/Severity/warning``).
    public var warnings: [Diagnostic] = []

    public func step(named name: String) -> Step? { steps.first { $0.name == name } }

    /// The step named `name`, or for an instance's name (`map[A]`) its fan-out's step under that name: what the
    /// commands that take a step's name by its versions and marks (`versions`, `restore`, `mark-tested`) need.
    public func step(orInstance name: String) -> Step? {
        if let step = step(named: name) { return step }
        guard let fanOut = FanOutSummary.fanOut(of: name), var step = step(named: fanOut), step.fanOut != nil else { return nil }
        step.name = name
        return step
    }

    /// Where `step` runs: its own executor or else the pipeline's, its labels, and its Slurm settings over the pipeline's.
    /// A step's `resources:` are its Slurm request where its `slurm:` (or its pipeline's) does not say.
    public func placement(of step: Step) -> StepPlacement {
        var slurm = step.placement.slurm.over(placement.slurm)
        if slurm.cpus == nil, step.resources.cpus > 1 { slurm.cpus = step.resources.cpus }
        if slurm.memory == nil, let bytes = step.resources.memory { slurm.memory = "\((bytes + (1 << 20) - 1) >> 20)M" }
        return StepPlacement(executor: step.placement.executor ?? placement.executor, labels: step.placement.labels, slurm: slurm)
    }
}

/// `concurrency:` of a pipeline: runs side by side (`allow`), one after another (`queue`: a new run waits until the
/// earlier ones have ended), or one at a time (`reject`: a new run is refused while one runs). Across every Sluice
/// process sharing the store.
public enum ConcurrencyPolicy: String, Sendable, CaseIterable {
    case allow, queue, reject
}

/// A named subset of steps (`--mode schema-only` in the analysis workflow example); members are step names or tags.
public struct Mode: Sendable, Equatable {
    public var name: String
    public var members: [String]
    public var description: String
    public var location: SourceLocation
}

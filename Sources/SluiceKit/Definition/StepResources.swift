/// `resources:` of a step: what it needs while it runs. A run admits local steps while their sum fits its `cpus`
/// and `memory` (``SchedulerStateMachine``); on Slurm they are the job's request; the memory, where the kernel
/// allows, is the most the step may use (``MemoryLimit``).
public struct StepResources: Sendable, Equatable, Codable {
    /// CPUs it keeps busy; 1 unless it says.
    public var cpus = 1
    /// Bytes of memory it may use; nil when it does not say (it then counts as none).
    public var memory: Int64?

    public init(cpus: Int = 1, memory: Int64? = nil) {
        self.cpus = cpus
        self.memory = memory
    }
}

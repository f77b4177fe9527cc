import Foundation

/// What a run's steps may use at once besides its job slots: the CPUs and memory of the machine that runs them
/// (`cpus` and `memory` in `sluice.yaml`, `--cpus` and `--memory`), and the sizes of the store's pools.
public struct RunCapacity: Sendable, Equatable {
    public var cpus: Int
    public var memory: Int64
    /// Each pool's size: at most this many steps of all the runs sharing the store hold one of its slots.
    public var pools: [String: Int]

    public init(
        cpus: Int = ProcessInfo.processInfo.activeProcessorCount,
        memory: Int64 = Int64(clamping: ProcessInfo.processInfo.physicalMemory), pools: [String: Int] = [:]
    ) {
        self.cpus = cpus
        self.memory = memory
        self.pools = pools
    }

    /// Why `steps` cannot run with these pools: each step that names a pool `sluice.yaml` does not define.
    func problems(with steps: [Step]) -> [Diagnostic] {
        steps.compactMap { step in
            guard let pool = step.pool, pools[pool] == nil else { return nil }
            return Diagnostic(
                .unknownName, at: step.location, "step '\(step.name)' uses pool '\(pool)', which sluice.yaml does not define",
                fix: "add 'pools: {\(pool): 1}' to sluice.yaml, with the number of steps that may use it at once"
                    + (pools.isEmpty ? "" : " (it defines \(pools.keys.sorted().joined(separator: ", ")))"))
        }
    }
}

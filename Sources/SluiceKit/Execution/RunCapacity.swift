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

    /// Why `pipeline`'s steps cannot run with these pools: a step names a pool that `sluice.yaml` does not define.
    func problem(with steps: [Step]) -> String? {
        guard let step = steps.first(where: { $0.pool.map { pools[$0] == nil } == true }) else { return nil }
        let known = pools.keys.sorted()
        return "step '\(step.name)' (\(step.location)) uses pool '\(step.pool!)', which sluice.yaml does not define: "
            + "add 'pools: {\(step.pool!): 1}' to sluice.yaml, with the number of steps that may use it at once"
            + (known.isEmpty ? "" : " (it defines \(known.joined(separator: ", ")))")
    }
}

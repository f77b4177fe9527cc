import Foundation

/// A step's peak memory, measured honestly or not at all.
///
/// The kernel's figure for a child (`wait4`'s `ru_maxrss`) starts from the spawning process's own high-water mark:
/// `posix_spawn` children exec from Sluice's address space, so a `/bin/true` step would be recorded at Sluice's size.
/// Above that mark the figure is the step's own (its tree's largest process, reaped children included); at or below
/// it, it says nothing. Those steps are sampled instead: every ``samplingInterval``, the high-water marks (`VmHWM`)
/// of the step's live processes are added up. A step gone before its first sample has no figure: unknown, not zero.
enum ProcessMemory {
    static let samplingInterval = 0.1
    /// Past this many processes a step's tree is not walked further in one sample.
    static let treeLimit = 256

    /// Sluice's own high-water mark now, in KiB: what a child spawned now starts its kernel figure from.
    static func inheritedKB() -> Int {
        var usage = rusage()
        return getrusage(RUSAGE_SELF.rawValue, &usage) == 0 ? usage.ru_maxrss : .max
    }

    /// The kernel's figure where it is the step's own, else nil.
    static func honestPeak(reportedKB: Int, inheritedKB: Int) -> Int? { reportedKB > inheritedKB ? reportedKB : nil }

    /// The sum of the high-water marks of `pid` and its descendants that are alive, or nil if `pid` is gone.
    static func sampleTreeKB(_ pid: pid_t) -> Int? {
        guard let own = highWaterKB(pid) else { return nil }
        var total = own, seen = 1
        var pending = children(of: pid)
        while let next = pending.popLast(), seen < treeLimit {
            seen += 1
            total += highWaterKB(next) ?? 0
            pending += children(of: next)
        }
        return total
    }

    /// `VmHWM` of `/proc/PID/status`; nil for a process gone (or a zombie, whose memory is already freed).
    private static func highWaterKB(_ pid: pid_t) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return nil }
        return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }

    private static func children(of pid: pid_t) -> [pid_t] {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8) else { return [] }
        return text.split(separator: " ").compactMap { pid_t($0) }
    }
}

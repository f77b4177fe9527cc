import Foundation

/// What `/proc` says about processes: whether one lives, and which carry a run's id in their environment.
public enum ProcessTable {
    /// Whether `pid` is a live process; a zombie (ended, not yet reaped) counts as ended.
    public static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")"), stat.index(close, offsetBy: 2) < stat.endIndex else { return false }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }

    /// Live processes whose environment holds `SLUICE_RUN_ID=id`: every step process of a run, and whatever they
    /// started (children inherit the environment), wherever they moved to in the process tree.
    public static func processes(ofRun id: String) -> [Int32] {
        let marker = Array("SLUICE_RUN_ID=\(id)".utf8)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap(Int32.init).filter { pid in
            guard pid != getpid(), let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
            return environment.split(separator: 0).contains { $0.elementsEqual(marker) } && isAlive(pid)
        }
    }

    /// Ends what a dead run left running: the process group of each of its processes, then each process, until
    /// none is left (a dying step may still fork). Returns how many processes it found.
    @discardableResult
    public static func endLeftovers(ofRun id: String) -> Int {
        var found = Set<Int32>()
        for _ in 0..<10 {
            let left = processes(ofRun: id)
            guard !left.isEmpty else { break }
            for pid in left {
                found.insert(pid)
                let group = getpgid(pid)
                if group > 1, group != getpgrp() { kill(-group, SIGKILL) }
                kill(pid, SIGKILL)
            }
            usleep(20_000)  // let the kernel deliver the signals before looking again
        }
        return found.count
    }
}

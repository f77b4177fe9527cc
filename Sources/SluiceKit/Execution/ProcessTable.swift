import Foundation

/// What `/proc` says about processes: whether one lives, and which carry a run's id in their environment.
public enum ProcessTable {
    /// Whether `pid` is a live process; a zombie (ended, not yet reaped) counts as ended.
    public static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")"), stat.index(close, offsetBy: 2) < stat.endIndex
        else { return false }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }

    /// Whether `pid` is a Sluice process (a recorded owner's pid may since have been reused by something else).
    static func isSluice(_ pid: Int32) -> Bool {
        guard pid > 0, let name = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8) else { return false }
        return name.trimmingCharacters(in: .whitespacesAndNewlines) == "sluice"
    }

    /// Live processes whose environment holds `SLUICE_RUN_ID=id` (and `SLUICE_STEP=step`, when given): the step
    /// processes of a run and whatever they started (children inherit the environment), wherever they moved to in
    /// the process tree: a daemon that left its process group with setsid is found too.
    public static func processes(ofRun id: String, step: String? = nil) -> [Int32] {
        let markers = [Array("SLUICE_RUN_ID=\(id)".utf8)] + (step.map { [Array("SLUICE_STEP=\($0)".utf8)] } ?? [])
        return processes { variables in markers.allSatisfy { marker in variables.contains { $0.elementsEqual(marker) } } }
    }

    /// The value of variable `name` among a process's environment entries.
    static func value(of name: String, in variables: [Data.SubSequence]) -> String? {
        let prefix = Array((name + "=").utf8)
        return variables.first { $0.starts(with: prefix) }.map { String(decoding: $0.dropFirst(prefix.count), as: UTF8.self) }
    }

    /// Live processes (other than this one) whose `NAME=value` environment entries satisfy `matches`. The entries
    /// are compared as bytes: this runs at the end of every run, over every process of the machine.
    static func processes(where matches: ([Data.SubSequence]) -> Bool) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap(Int32.init).filter { pid in
            guard pid != getpid(), let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
            return matches(environment.split(separator: 0)) && isAlive(pid)
        }
    }

    /// Kills `processes()`' process groups, then the processes, until none is left (a dying step may still fork).
    /// Returns how many processes it found.
    @discardableResult
    static func end(_ processes: () -> [Int32]) -> Int {
        var found = Set<Int32>()
        for _ in 0..<10 {
            let left = processes()
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

    /// Ends what a dead run left running: the process group of each of its processes, then each process.
    /// Returns how many processes it found.
    @discardableResult
    static func endLeftovers(ofRun id: String, step: String? = nil) -> Int {
        end { processes(ofRun: id, step: step) }
    }
}

import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `resources.memory`, enforced by the kernel: each attempt of a step that asks for memory runs in a memory cgroup
/// of its own, made under Sluice's own cgroup, limited to what it asked for. Past it the kernel's OOM killer ends the
/// step, and the attempt says so.
///
/// Where Sluice may not make such a cgroup (no memory controller, or one it cannot write to, as in many containers),
/// the step runs without a limit: its memory still counts for admission, and its log's first line says it is not
/// enforced.
struct MemoryLimit: Sendable {
    /// The attempt's cgroup folder.
    let path: String
    private let version2: Bool

    /// The memory cgroup new ones are made in (Sluice's own), and whether it is cgroup v2; or why there is none.
    static let parent: Result<(path: String, version2: Bool), Problem> = findParent()

    private static let made = Atomic<Int>(0)

    struct Problem: Error {
        var message: String
    }

    /// Makes the cgroup of one attempt, limited to `bytes`.
    static func make(for identity: AttemptIdentity, bytes: Int64) -> Result<MemoryLimit, Problem> {
        let parent: (path: String, version2: Bool)
        switch Self.parent {
        case let .success(found): parent = found
        case let .failure(problem): return .failure(problem)
        }
        // One of its own, whatever the step's name: numbered in this process.
        let number = made.add(1, ordering: .relaxed).newValue
        let limit = MemoryLimit(path: parent.path + "/sluice-\(getpid())-\(identity.runID)-\(number)", version2: parent.version2)
        guard mkdir(limit.path, 0o755) == 0 else {
            return .failure(Problem(message: "cannot make a memory cgroup in \(parent.path): \(String(cString: strerror(errno)))"))
        }
        let file = parent.version2 ? "memory.max" : "memory.limit_in_bytes"
        guard limit.write(String(bytes), to: file) else {
            limit.remove()
            return .failure(Problem(message: "cannot set \(file) in \(limit.path)"))
        }
        // No swapping past the limit either, where the kernel counts swap.
        _ = limit.write(parent.version2 ? "0" : String(bytes), to: parent.version2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes")
        return .success(limit)
    }

    /// The command line that puts itself in this cgroup, then runs `arguments` (`executable` is `arguments[0]` found):
    /// the process enters the cgroup before it runs the step, so nothing the step starts is left outside.
    func wrapping(_ arguments: [String], executable: String) -> [String] {
        let script =
            #"echo $$ 2>/dev/null > "$0" || echo "sluice: resources.memory is not enforced: cannot enter the memory cgroup $0" >&2; exec "$@""#
        return ["/bin/sh", "-c", script, path + "/cgroup.procs", executable] + arguments.dropFirst()
    }

    /// Whether the kernel's OOM killer ended a process of the cgroup.
    var killedForMemory: Bool {
        let text = (try? String(contentsOfFile: path + (version2 ? "/memory.events" : "/memory.oom_control"), encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix("oom_kill ") }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") }.map { $0 > 0 } ?? false
    }

    /// Removes the cgroup once its processes are gone; a process that left the step's group may still hold it a
    /// moment, so it is tried again a second later.
    func remove() {
        guard rmdir(path) != 0 else { return }
        DispatchQueue.global().asyncAfter(deadline: .now() + 1) { [path] in _ = rmdir(path) }
    }

    /// Writes a cgroup setting: one `write` to the kernel's file, which takes or refuses it whole.
    private func write(_ text: String, to file: String) -> Bool {
        let descriptor = open(path + "/" + file, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        return Glibc.write(descriptor, bytes, bytes.count) == bytes.count
    }

    private static func findParent() -> Result<(path: String, version2: Bool), Problem> {
        guard let text = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) else {
            return .failure(Problem(message: "this system has no cgroups (/proc/self/cgroup)"))
        }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 3 else { continue }
            let candidate: (String, Bool)
            if fields[1].split(separator: ",").contains("memory") {
                candidate = ("/sys/fs/cgroup/memory" + fields[2], false)
            } else if fields[0] == "0", fields[1].isEmpty,
                (try? String(contentsOfFile: "/sys/fs/cgroup/cgroup.controllers", encoding: .utf8))?.contains("memory") == true
            {
                candidate = ("/sys/fs/cgroup" + fields[2], true)
            } else {
                continue
            }
            let path = candidate.0.hasSuffix("/") ? String(candidate.0.dropLast()) : candidate.0
            guard access(path, W_OK) == 0 else { continue }
            // cgroup v2 gives a child the memory controller only when the parent hands it down.
            if candidate.1, (try? String(contentsOfFile: path + "/cgroup.subtree_control", encoding: .utf8))?.contains("memory") != true { continue }
            return .success((path, candidate.1))
        }
        return .failure(Problem(message: "Sluice may not make memory cgroups here (no writable memory controller)"))
    }
}

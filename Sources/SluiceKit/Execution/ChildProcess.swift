import CSluiceSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What to start: the argument vector, environment, working directory and the file that receives its output.
public struct LaunchSpec: Sendable {
    public var arguments: [String]
    public var environment: [String: String]
    public var workingDirectory: String
    /// stdout and stderr are appended here; stdin is /dev/null.
    public var logFile: String
    /// A line written to the log before the process starts (marks retries).
    public var logHeader: String?

    /// The same launch for attempt `number`: retries append to the log under a header line.
    func forAttempt(_ number: Int) -> LaunchSpec {
        var copy = self
        copy.logHeader = number > 1 ? "\n--- sluice: attempt \(number) ---\n" : nil
        return copy
    }
}

/// How a child process ended, with the resource usage the kernel reports for it.
struct ChildExit: Sendable {
    var exitCode: Int32?
    var signal: Int32?
    var peakMemoryKB: Int
    var userCPU: Double
    var systemCPU: Double
}

/// A failure to start a process, in words.
struct SpawnError: Error, CustomStringConvertible {
    var description: String
}

/// Starts children with `posix_spawn` (each in a process group of its own) and reaps them with `wait4`.
enum ChildProcess {
    /// Starts the process; the caller must eventually call ``wait(_:)`` on the returned pid.
    static func spawn(_ spec: LaunchSpec, executable: String) throws -> pid_t {
        if let header = spec.logHeader {
            let descriptor = open(spec.logFile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            if descriptor >= 0 {
                _ = header.withCString { write(descriptor, $0, strlen($0)) }
                close(descriptor)
            }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, spec.logFile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        sluice_spawn_file_actions_addchdir(&actions, spec.workingDirectory)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Own process group (so the whole tree can be signalled), default signal handlers, nothing blocked.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)

        let argv = spec.arguments.map { strdup($0) } + [nil]
        let envp = spec.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard status == 0 else {
            throw SpawnError(description: "cannot start \(spec.arguments[0]): \(String(cString: strerror(status)))")
        }
        return pid
    }

    /// Blocks until `pid` ends: call it on a thread of its own, never on the cooperative pool.
    static func wait(_ pid: pid_t) -> ChildExit {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) == -1 {
            if errno != EINTR { return ChildExit(exitCode: nil, signal: nil, peakMemoryKB: 0, userCPU: 0, systemCPU: 0) }
        }
        // The W* macros are not imported into Swift; these are their definitions on Linux.
        let terminatingSignal = status & 0x7f
        return ChildExit(
            exitCode: terminatingSignal == 0 ? (status >> 8) & 0xff : nil,
            signal: terminatingSignal != 0 ? terminatingSignal : nil,
            peakMemoryKB: usage.ru_maxrss,
            userCPU: Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6,
            systemCPU: Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6)
    }

    /// Finds `name` in the `PATH` of the child's environment, as a shell would.
    static func resolveExecutable(_ name: String, path: String?) -> String? {
        if name.contains("/") { return name }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}

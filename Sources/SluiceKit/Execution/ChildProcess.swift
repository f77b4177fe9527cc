import CSluiceSupport
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What to start: the argument vector, environment, working directory and the file that receives its output.
public struct LaunchSpec: Sendable, Codable {
    public var arguments: [String]
    /// `NAME=value` entries, as `execve` takes them.
    public var environment: [String]
    /// The `PATH` that `arguments[0]` is looked up in when it has no slash.
    var searchPath: String?
    var workingDirectory: String
    /// stdout and stderr are appended here (the file is created when the first byte arrives); stdin is /dev/null.
    var logFile: String
    /// A line written to the log before the attempt's first output (marks retries).
    var logHeader: String?
    /// Secrets to hide in the output before it reaches the log.
    public var mask: SecretMask?
    /// Which attempt this is, for executors that name it elsewhere (a Slurm job, a worker's work item).
    public var identity: AttemptIdentity
    /// Which executor runs it, and what it asks of that executor.
    public var placement = StepPlacement()
    /// `resources:`: a worker counts them against its capacity; the memory is the most the step's processes may use,
    /// where the kernel enforces it (``MemoryLimit``).
    public var resources: StepResources?

    /// The same launch for attempt `number` (`SLUICE_ATTEMPT`): retries append to the log under a header line.
    func forAttempt(_ number: Int) -> LaunchSpec {
        var copy = self
        copy.logHeader = number > 1 ? "\n--- sluice: attempt \(number) ---\n" : nil
        copy.identity.attempt = number
        copy.environment.append("SLUICE_ATTEMPT=\(number)")
        copy.environment.append("SLUICE_OUTPUT=\(RunDirectory(root: identity.runDirectory).values(of: identity.step, attempt: number))")
        return copy
    }
}

/// A run's step attempt, by name: `step` is `STEP` or `STEP.recovery` for its healing script.
public struct AttemptIdentity: Sendable, Codable, Equatable {
    public var runID: String
    public var step: String
    public var attempt: Int
    /// The run's directory: executors keep their files for the attempt in its `working/.sluice/`.
    public var runDirectory: String

    /// A name for the attempt, unique in the run: `STEP.ATTEMPT`.
    public var name: String { "\(step).\(attempt)" }
}

/// How a child process ended, with the resource usage the kernel reports for it.
struct ChildExit: Sendable {
    var exitCode: Int32?
    var signal: Int32?
    var peakMemoryKB: Int?
    var userCPU: Double
    var systemCPU: Double
    /// Why (some of) its output is missing from its log: the disk was full, say.
    var logProblem: String?
}

/// A failure to start a process, in words.
struct SpawnError: Error, CustomStringConvertible {
    var description: String
}

/// Starts children with `posix_spawn` (each in a process group of its own) and reaps them with `wait4`.
enum ChildProcess {
    /// Starts the process with stdout and stderr on `output`; the caller must eventually reap it (``wait(_:)``).
    /// Returns once the child has called exec: a fraction of a millisecond.
    static func spawn(_ spec: LaunchSpec, executable: String, output: Int32) throws(SpawnError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, output, 2)
        // A step sees stdin, stdout and stderr only: no descriptor Sluice or its parent left open leaks into it.
        sluice_spawn_file_actions_addclosefrom(&actions, 3)
        sluice_spawn_file_actions_addchdir(&actions, spec.workingDirectory)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Own process group (so the whole tree can be signalled), default signal handlers, nothing blocked.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attributes, 0)
        // exec resets handled signals by itself; only ignored ones (Sluice ignores SIGPIPE, SIGINT and SIGTERM)
        // would be inherited. Resetting all 64 would cost the suspended parent 64 system calls per step.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)

        var pid: pid_t = 0
        let status = withCStringArray(spec.arguments) { argv in
            withCStringArray(spec.environment) { envp in
                posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
            }
        }
        guard status == 0 else {
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: spec.workingDirectory, isDirectory: &isDirectory) || !isDirectory.boolValue {
                throw SpawnError(description: "working directory \(spec.workingDirectory) does not exist; create it or correct 'workdir'")
            }
            throw SpawnError(description: "cannot start \(spec.arguments[0]): \(String(cString: strerror(status)))")
        }
        return pid
    }

    /// Reaps `pid`, blocking until it ends: call it once the process is known to have exited, or on a thread of its own.
    /// `inheritedKB` is what the kernel's figure starts from (``ProcessMemory/inheritedKB()``, taken at spawn).
    static func wait(_ pid: pid_t, inheritedKB: Int = .max) -> ChildExit {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) == -1 {
            if errno != EINTR { return ChildExit(exitCode: nil, signal: nil, peakMemoryKB: nil, userCPU: 0, systemCPU: 0) }
        }
        // The W* macros are not imported into Swift; these are their definitions on Linux.
        let terminatingSignal = status & 0x7f
        return ChildExit(
            exitCode: terminatingSignal == 0 ? (status >> 8) & 0xff : nil,
            signal: terminatingSignal != 0 ? terminatingSignal : nil,
            peakMemoryKB: ProcessMemory.honestPeak(reportedKB: usage.ru_maxrss, inheritedKB: inheritedKB),
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

import CSluiceSupport
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs attempts as child processes of this Sluice process, each in its own process group.
///
/// Stopping an attempt (timeout or cancel) sends SIGTERM to the whole group, then SIGKILL after the grace
/// period. When the step's main process ends, whatever it left behind in its group is killed (by the
/// ``ProcessMonitor``): no grandchild outlives its step.
public final class LocalExecutor: StepExecutor {
    private let gracePeriod: Double
    /// A step's log is rotated past this size: `STEP.log` goes to `STEP.log.1`, so at most twice it is kept.
    private let logLimit: Int64
    /// Executables found so far, by `PATH` and then by name.
    private let executables = Mutex([String: [String: String]]())
    /// Every child that has not ended, for ``killAll()``.
    private let running = Mutex([ObjectIdentifier: RunningChild]())

    public init(gracePeriod: Double, logLimit: Int64 = LocalExecutor.defaultLogLimit) {
        self.gracePeriod = gracePeriod
        self.logLimit = logLimit
    }

    public static let defaultLogLimit: Int64 = 100 << 20

    /// Sends SIGKILL to every running step's process group now, without the grace period (a second Ctrl-C).
    public func killAll() {
        for child in running.withLock({ Array($0.values) }) { child.kill() }
    }

    public func start(
        _ launch: LaunchSpec, timeout: Double?, onStart: @escaping @Sendable (Int32) -> Void,
        completion: @escaping @Sendable (AttemptResult) -> Void
    ) -> any RunningAttempt {
        let startedAt = Date()
        let child = RunningChild(gracePeriod: gracePeriod)
        guard let executable = resolve(launch.arguments[0], path: launch.searchPath) else {
            completion(.notStarted(at: startedAt, error: "command not found: '\(launch.arguments[0])' (searched PATH)"))
            return child
        }
        let key = ObjectIdentifier(child)
        var launch = launch
        var limit: MemoryLimit?
        if let bytes = launch.resources?.memory {
            switch MemoryLimit.make(for: launch.identity, bytes: bytes) {
            case let .success(made):
                limit = made
                launch.arguments = made.wrapping(launch.arguments, executable: executable)
            case let .failure(problem):
                launch.logHeader =
                    (launch.logHeader ?? "")
                    + "sluice: resources.memory (\(ByteSize.memoryText(bytes))) is not enforced here: \(problem.message)\n"
            }
        }
        let (wrapped, cgroup) = (launch, limit)
        do {
            try Self.start(
                wrapped, executable: cgroup == nil ? executable : "/bin/sh", logLimit: logLimit,
                onSpawn: { [self] pid in
                    running.withLock { $0[key] = child }
                    child.started(pid)
                    onStart(pid)
                },
                completion: { [self] exit in
                    running.withLock { $0[key] = nil }
                    var result = AttemptResult(exit: exit, stopReason: child.exited(), timeout: timeout, startedAt: startedAt, finishedAt: Date())
                    if let cgroup {
                        if result.state == .failed, cgroup.killedForMemory, let bytes = wrapped.resources?.memory {
                            result.error = "killed by the kernel for using more than its memory (resources.memory: \(ByteSize.memoryText(bytes)))"
                        }
                        cgroup.remove()
                    }
                    completion(result)
                })
            if let timeout { child.armTimeout(after: timeout) }
        } catch {
            cgroup?.remove()
            completion(.notStarted(at: startedAt, error: "\(error)"))
        }
        return child
    }

    /// Spawns the child with its output on a fresh pipe and hands both to the ``ProcessMonitor``.
    /// `onSpawn` runs before the monitor can report the exit, so "started" is always recorded before "finished".
    private static func start(
        _ launch: LaunchSpec, executable: String, logLimit: Int64, onSpawn: (pid_t) -> Void,
        completion: @escaping @Sendable (ChildExit) -> Void
    ) throws(SpawnError) {
        var ends: [Int32] = [-1, -1]
        guard sluice_pipe_cloexec(&ends) == 0 else {
            throw SpawnError(description: "cannot create an output pipe: \(String(cString: strerror(errno)))")
        }
        defer { close(ends[1]) }
        let pid: pid_t
        do { pid = try ChildProcess.spawn(launch, executable: executable, output: ends[1]) } catch {
            close(ends[0])
            throw error
        }
        onSpawn(pid)
        try ProcessMonitor.shared.watch(
            pid: pid, output: ends[0], logFile: launch.logFile, logHeader: launch.logHeader,
            logLimit: logLimit, mask: launch.mask, completion: completion)
    }

    private func resolve(_ name: String, path: String?) -> String? {
        let path = path ?? ""
        if let known = executables.withLock({ $0[path]?[name] }) { return known }
        let found = ChildProcess.resolveExecutable(name, path: path.isEmpty ? nil : path)
        if let found { executables.withLock { $0[path, default: [:]][name] = found } }
        return found
    }
}

/// The state of one child as seen by the monitor thread and by whoever stops it.
private final class RunningChild: RunningAttempt {
    enum StopReason: Sendable { case timedOut, cancelled }

    private struct State {
        var pid: pid_t?
        var exited = false
        var stopReason: StopReason?
    }

    private let state = Mutex(State())
    private let gracePeriod: Double

    init(gracePeriod: Double) { self.gracePeriod = gracePeriod }

    func started(_ pid: pid_t) {
        let pendingStop = state.withLock { state in
            state.pid = pid
            return state.stopReason != nil
        }
        if pendingStop { terminate(pid) }
    }

    /// A timer that outlives the child does nothing: ``stop(_:)`` ignores a child that has exited.
    func armTimeout(after seconds: Double) {
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in stop(.timedOut) }
    }

    /// Marks the child reaped; returns why it was stopped, if it was.
    func exited() -> StopReason? {
        state.withLock { state in
            state.exited = true
            return state.stopReason
        }
    }

    func cancel() { stop(.cancelled) }

    func kill() {
        let pid = state.withLock { state -> pid_t? in
            state.stopReason = state.stopReason ?? .cancelled
            return state.exited ? nil : state.pid
        }
        if let pid { killpg(pid, SIGKILL) }
    }

    func stop(_ reason: StopReason) {
        let pid = state.withLock { state -> pid_t? in
            guard state.stopReason == nil, !state.exited else { return nil }
            state.stopReason = reason
            return state.pid
        }
        if let pid { terminate(pid) }
    }

    private func terminate(_ pid: pid_t) {
        killpg(pid, SIGTERM)
        DispatchQueue.global().asyncAfter(deadline: .now() + gracePeriod) { [self] in
            if !state.withLock({ $0.exited }) { killpg(pid, SIGKILL) }
        }
    }
}

extension AttemptResult {
    static func notStarted(at date: Date, error: String) -> AttemptResult {
        AttemptResult(
            state: .failed, exitCode: nil, signal: nil, error: error, startedAt: date, finishedAt: Date(),
            peakMemoryKB: nil, userCPU: 0, systemCPU: 0)
    }

    fileprivate init(exit: ChildExit, stopReason: RunningChild.StopReason?, timeout: Double?, startedAt: Date, finishedAt: Date) {
        let state: StepState
        let error: String?
        switch (stopReason, exit.exitCode, exit.signal) {
        case (.timedOut?, _, _):
            state = .timedOut
            error = "timed out after \(DurationFormat.short(timeout ?? 0)); its process group was terminated"
        case (.cancelled?, _, _):
            state = .cancelled
            error = "cancelled"
        case (nil, 0?, _):
            state = .succeeded
            error = nil
        case let (nil, code?, _):
            state = .failed
            error = "exited with status \(code)"
        case let (nil, nil, signal):
            state = .failed
            error = "killed by signal \(SignalName.of(signal ?? 0))"
        }
        // A log that could not be written is said, with what was lost of its end, whatever the state.
        let problems = [error, exit.logProblem].compactMap { $0 }.joined(separator: "; ")
        self.init(
            state: state, exitCode: exit.exitCode, signal: exit.signal, error: problems.isEmpty ? nil : problems, startedAt: startedAt,
            finishedAt: finishedAt, peakMemoryKB: exit.peakMemoryKB, userCPU: exit.userCPU, systemCPU: exit.systemCPU)
    }
}

enum SignalName {
    static func of(_ signal: Int32) -> String {
        let names: [Int32: String] = [
            SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGABRT: "SIGABRT",
            SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGPIPE: "SIGPIPE",
            SIGALRM: "SIGALRM", SIGTERM: "SIGTERM", SIGBUS: "SIGBUS", SIGUSR1: "SIGUSR1", SIGUSR2: "SIGUSR2",
        ]
        return names[signal].map { "\($0) (\(signal))" } ?? "\(signal)"
    }
}

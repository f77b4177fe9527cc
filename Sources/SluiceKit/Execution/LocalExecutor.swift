import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs attempts as child processes of this Sluice process, each in its own process group.
///
/// Stopping an attempt (timeout or cancel) sends SIGTERM to the whole group, then SIGKILL after the grace
/// period. When the step's main process ends, whatever it left behind in its group is killed: no grandchild
/// outlives its step.
public final class LocalExecutor: StepExecutor {
    private let gracePeriod: Double
    private let threads = BlockingThreadPool(name: "sluice.child")
    private let executables = Mutex([String: String]())

    public init(gracePeriod: Double) { self.gracePeriod = gracePeriod }

    public func run(_ launch: LaunchSpec, timeout: Double?, onStart: @escaping @Sendable (Int32) -> Void) async -> AttemptResult {
        let startedAt = Date()
        guard let executable = resolve(launch.arguments[0], path: launch.environment["PATH"]) else {
            return .notStarted(at: startedAt, error: "command not found: '\(launch.arguments[0])' (searched PATH)")
        }
        let child = RunningChild(gracePeriod: gracePeriod)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                threads.submit {
                    let pid: pid_t
                    do { pid = try ChildProcess.spawn(launch, executable: executable) } catch {
                        continuation.resume(returning: .notStarted(at: startedAt, error: "\(error)"))
                        return
                    }
                    child.started(pid)
                    onStart(pid)
                    let timer = timeout.map { seconds in
                        let item = DispatchWorkItem { child.stop(.timedOut) }
                        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: item)
                        return item
                    }
                    let exit = ChildProcess.wait(pid)
                    timer?.cancel()
                    let reason = child.exited()
                    // Whatever the step left running in its group goes with it.
                    killpg(pid, SIGKILL)
                    continuation.resume(returning: AttemptResult(exit: exit, stopReason: reason, timeout: timeout,
                                                                 startedAt: startedAt, finishedAt: Date()))
                }
            }
        } onCancel: {
            child.stop(.cancelled)
        }
    }

    private func resolve(_ name: String, path: String?) -> String? {
        let key = (path ?? "") + "\0" + name
        if let known = executables.withLock({ $0[key] }) { return known }
        let found = ChildProcess.resolveExecutable(name, path: path)
        if let found { executables.withLock { $0[key] = found } }
        return found
    }
}

/// The state of one child as seen by the thread waiting for it and by whoever stops it.
private final class RunningChild: Sendable {
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

    /// Marks the child reaped; returns why it was stopped, if it was.
    func exited() -> StopReason? {
        state.withLock { state in
            state.exited = true
            return state.stopReason
        }
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
        AttemptResult(state: .failed, exitCode: nil, signal: nil, error: error, startedAt: date, finishedAt: Date(),
                      peakMemoryKB: 0, userCPU: 0, systemCPU: 0)
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
        self.init(state: state, exitCode: exit.exitCode, signal: exit.signal, error: error, startedAt: startedAt,
                  finishedAt: finishedAt, peakMemoryKB: exit.peakMemoryKB, userCPU: exit.userCPU, systemCPU: exit.systemCPU)
    }
}

enum SignalName {
    static func of(_ signal: Int32) -> String {
        let names: [Int32: String] = [SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGABRT: "SIGABRT",
                                      SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGPIPE: "SIGPIPE",
                                      SIGALRM: "SIGALRM", SIGTERM: "SIGTERM", SIGBUS: "SIGBUS", SIGUSR1: "SIGUSR1", SIGUSR2: "SIGUSR2"]
        return names[signal].map { "\($0) (\(signal))" } ?? "\(signal)"
    }
}

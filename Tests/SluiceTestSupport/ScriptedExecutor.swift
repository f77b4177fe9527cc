import Foundation
import SluiceKit
import Synchronization

/// A ``StepExecutor`` that runs nothing: each attempt ends as the test's script says, on a thread of its own, at
/// once, or, for ``Outcome/hang``, when it is cancelled. It stands in for processes where a test is about the
/// engine's decisions (which steps start, retry, recover, are skipped) rather than about processes.
public final class ScriptedExecutor: StepExecutor {
    public enum Outcome: Sendable {
        case succeed
        case fail
        case timeOut
        /// Runs until cancelled, then ends `cancelled`.
        case hang
    }

    private struct State {
        var script: [String: [Outcome]]
        var started: [String] = []
    }

    private let state: Mutex<State>
    private let queue = DispatchQueue(label: "sluice.tests.scripted-executor")

    /// `script` gives each step's attempts in order, by step name (`STEP.recovery` for its recovery script); an
    /// attempt the script does not mention succeeds.
    public init(_ script: [String: [Outcome]] = [:]) { state = Mutex(State(script: script)) }

    /// The attempts started so far, in order: `STEP#ATTEMPT`, or `STEP.recovery` for a recovery script.
    public var started: [String] { state.withLock { $0.started } }

    public func start(
        _ launch: LaunchSpec, timeout: Double?, onStart: @escaping @Sendable (Int32) -> Void,
        completion: @escaping @Sendable (AttemptResult) -> Void
    ) -> any RunningAttempt {
        let name = launch.identity.step
        let outcome = state.withLock { state -> Outcome in
            state.started.append(name.hasSuffix(".recovery") ? name : "\(name)#\(launch.identity.attempt)")
            return state.script[name]?.isEmpty == false ? state.script[name]!.removeFirst() : .succeed
        }
        let attempt = Attempt(completion: completion)
        queue.async {
            onStart(1)
            attempt.begin(outcome)
        }
        return attempt
    }

    private final class Attempt: RunningAttempt {
        private struct State {
            var completion: (@Sendable (AttemptResult) -> Void)?
            var hanging = false
            var cancelled = false
        }

        private let state: Mutex<State>
        private let startedAt = Date()

        init(completion: @escaping @Sendable (AttemptResult) -> Void) { state = Mutex(State(completion: completion)) }

        /// A cancel that came first ends it `cancelled`; a hanging attempt ends when it is cancelled.
        func begin(_ outcome: Outcome) {
            let cancelled = state.withLock { state in
                state.hanging = outcome == .hang
                return state.cancelled
            }
            switch cancelled ? nil : outcome {
            case nil: end(.cancelled)
            case .succeed?: end(.succeeded)
            case .fail?: end(.failed)
            case .timeOut?: end(.timedOut)
            case .hang?: break
            }
        }

        func cancel() {
            let hanging = state.withLock { state in
                state.cancelled = true
                return state.hanging
            }
            if hanging { end(.cancelled) }
        }

        private func end(_ outcome: StepState) {
            guard let completion = state.withLock({ $0.completion.take() }) else { return }
            let error: String? =
                switch outcome {
                case .succeeded: nil
                case .timedOut: "timed out (scripted)"
                case .cancelled: "cancelled"
                default: "exited with code 1 (scripted)"
                }
            completion(
                AttemptResult(
                    state: outcome, exitCode: outcome == .failed ? 1 : nil, error: error, startedAt: startedAt, finishedAt: Date()))
        }
    }
}

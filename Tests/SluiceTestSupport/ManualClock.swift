import Foundation
import SluiceKit
import Synchronization

/// A clock that moves only when a test moves it: schedules fire "on time" without waiting for real minutes.
public final class ManualClock: TriggerClock {
    private struct State {
        var now: Date
        var sleepers: [(id: UUID, deadline: Date, continuation: CheckedContinuation<Void, any Error>)] = []
    }

    private let state: Mutex<State>

    public init(_ now: Date) { state = Mutex(State(now: now)) }

    public var now: Date { state.withLock { $0.now } }

    /// Moves the clock to `time`, waking whoever sleeps until then.
    public func advance(to time: Date) {
        let woken = state.withLock { state in
            state.now = max(state.now, time)
            let due = state.sleepers.filter { $0.deadline <= state.now }
            state.sleepers.removeAll { $0.deadline <= state.now }
            return due.map(\.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    /// How many tasks are asleep on this clock (a loop waiting for its next due time).
    public var sleeping: Int { state.withLock { $0.sleepers.count } }

    public func sleep(until deadline: Date) async throws {
        let id = UUID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let ready = state.withLock { state in
                    guard deadline > state.now, !Task.isCancelled else { return true }
                    state.sleepers.append((id, deadline, continuation))
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { state in
                state.sleepers.firstIndex { $0.id == id }.map { state.sleepers.remove(at: $0).continuation }
            }
            sleeper?.resume(throwing: CancellationError())
        }
        try Task.checkCancellation()
    }
}

extension TestWorkspace {
    /// The workspace's settings, as `sluice` would load them.
    public func configuration() throws -> Configuration { try Configuration.load(workspace: root) }
}

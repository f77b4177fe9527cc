import Foundation
import Synchronization

/// Delivers run events to their consumers (store, run log, terminal) in batches on one thread of its own.
///
/// A step produces a few events within a millisecond; waking a consumer for each costs more than the step, and
/// committing each rewrites the same pages. Events wait at most `latency` (25 ms: the window of state a crash can
/// lose) so that a burst becomes one store transaction and one wake-up.
final class EventBatcher: Sendable {
    private struct State {
        var pending: [RunEvent] = []
        var scheduled = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "sluice.events")
    private let latency: DispatchTimeInterval
    private let deliver: @Sendable ([RunEvent]) -> Void

    init(latency: DispatchTimeInterval = .milliseconds(25), deliver: @escaping @Sendable ([RunEvent]) -> Void) {
        self.latency = latency
        self.deliver = deliver
    }

    func append(_ event: RunEvent) {
        let schedule = state.withLock { state in
            state.pending.append(event)
            defer { state.scheduled = true }
            return !state.scheduled
        }
        if schedule { queue.asyncAfter(deadline: .now() + latency) { self.drain() } }
    }

    /// Returns once every event appended so far has been delivered.
    func flush() async {
        await withCheckedContinuation { continuation in
            state.withLock { $0.waiters.append(continuation) }
            queue.async { self.drain() }
        }
    }

    private func drain() {
        while true {
            let (batch, waiters) = state.withLock { state -> ([RunEvent], [CheckedContinuation<Void, Never>]) in
                guard !state.pending.isEmpty else {
                    state.scheduled = false
                    defer { state.waiters = [] }
                    return ([], state.waiters)
                }
                defer { state.pending.removeAll(keepingCapacity: true) }
                return (state.pending, [])
            }
            guard !batch.isEmpty else {
                for waiter in waiters { waiter.resume() }
                return
            }
            deliver(batch)
        }
    }
}

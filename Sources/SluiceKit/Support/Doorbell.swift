import Foundation
import Synchronization

/// Wakes whoever waits for news: new events for the live views, new work for a worker. Waiters also wake on their
/// own after a timeout, since news from other processes can be missed (a dropped LISTEN connection).
public final class Doorbell: Sendable {
    private struct State {
        var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
        /// A ring that found nobody waiting: the next wait returns at once, so that no ring is lost between waits.
        var rangMeanwhile = false
        var rings: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// How many times it rang: what came before a ring is seen by whoever reads after the count moved.
    public var rings: UInt64 { state.withLock { $0.rings } }

    public func ring() {
        let woken = state.withLock { state in
            defer { state.waiters = [:] }
            state.rings &+= 1
            state.rangMeanwhile = state.waiters.isEmpty
            return Array(state.waiters.values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// Returns at the next ring (or at once if it rang since the last wait), after `timeout`, or when the task is cancelled.
    public func wait(timeout: Duration) async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let rang = state.withLock { state in
                    defer { state.rangMeanwhile = false }
                    if !state.rangMeanwhile { state.waiters[id] = continuation }
                    return state.rangMeanwhile
                }
                if rang { return continuation.resume() }
                DispatchQueue.global().asyncAfter(deadline: .now() + timeout.seconds) { self.wake(id) }
            }
        } onCancel: {
            wake(id)
        }
    }

    private func wake(_ id: UUID) {
        state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

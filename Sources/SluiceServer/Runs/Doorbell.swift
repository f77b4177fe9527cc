import Foundation
import Synchronization

/// Wakes whoever waits for new events: rung by the runs of this process as their events are stored; waiters
/// also wake on their own after a short while, to see what other processes (the CLI) stored.
final class Doorbell: Sendable {
    private let waiters = Mutex<[UUID: CheckedContinuation<Void, Never>]>([:])

    func ring() {
        let woken = waiters.withLock { waiters in
            defer { waiters = [:] }
            return Array(waiters.values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// Returns at the next ring, after `timeout`, or when the task is cancelled.
    func wait(timeout: Duration) async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                waiters.withLock { $0[id] = continuation }
                DispatchQueue.global().asyncAfter(deadline: .now() + timeout.seconds) { self.wake(id) }
            }
        } onCancel: {
            wake(id)
        }
    }

    private func wake(_ id: UUID) {
        waiters.withLock { $0.removeValue(forKey: id) }?.resume()
    }
}

private extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

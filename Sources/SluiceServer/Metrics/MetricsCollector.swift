import Foundation
import SluiceKit
import Synchronization

/// Feeds ``EventCounters`` with the store's events, each once and in order, from the newest event stored when the
/// server started: what happened before is not this process's to count.
final class MetricsCollector: Sendable {
    private struct State {
        var after: Int64?
        var counters = EventCounters()
    }

    private let store: any RunStore
    private let state = Mutex(State())

    init(store: any RunStore) { self.store = store }

    /// Counts from here on (the first call decides).
    func start() async throws {
        let latest = try await store.latestEventSeq()
        state.withLock { if $0.after == nil { $0.after = latest } }
    }

    /// Counts the events stored since the last pass and returns the counters: a scrape sees every event stored before it.
    @discardableResult
    func catchUp() async throws -> EventCounters {
        if state.withLock({ $0.after == nil }) { try await start() }
        while true {
            let after = state.withLock { $0.after ?? 0 }
            let events = try await store.events(after: after, runID: nil, limit: 500)
            // Passes may overlap (the loop and a scrape): an event at or before the mark was counted by the other.
            let counters = state.withLock { state in
                for event in events where event.seq > state.after ?? 0 {
                    state.counters.observe(event)
                    state.after = event.seq
                }
                return state.counters
            }
            if events.isEmpty {
                // SQLite numbers new events on from the highest it holds, so once `sluice gc` removed the newest ones,
                // numbers come round again: count from the highest left.
                let latest = try await store.latestEventSeq()
                state.withLock { if let mark = $0.after, latest < mark { $0.after = latest } }
            }
            if events.count < 500 { return counters }
        }
    }

    /// Counts events as they are stored, until cancelled, so that those of runs removed soon after are counted too.
    /// It looks every second rather than waiting for the doorbell: a waiter that never leaves would take the rings of
    /// the live event streams between their waits, and a scrape catches up by itself.
    func follow() async {
        while !Task.isCancelled {
            _ = try? await catchUp()
            try? await Task.sleep(for: .seconds(1))
        }
    }
}

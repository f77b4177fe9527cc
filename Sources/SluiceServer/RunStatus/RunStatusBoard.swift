import Foundation
import SluiceKit
import Synchronization

/// The ``RunProgress`` of the runs asked about lately, each read once and then kept current from its events, so a
/// status request reads no step: it asks the store only for the events since the last answer, and not even that
/// for a run of this server when the doorbell has not rung since (this server's runs ring it after every write).
final class RunStatusBoard: Sendable {
    private struct Entry {
        var progress: RunProgress
        /// The doorbell's rings when the events were last read, and when that was.
        var rings: UInt64
        var readAt: ContinuousClock.Instant
        /// Whether this server runs it, so that its events ring the doorbell.
        var ownedHere: Bool
        var lastUsed: UInt64
    }

    /// How many runs are kept; the least recently asked about goes first.
    private static let capacity = 64
    private let store: any RunStore
    private let doorbell: Doorbell
    private let launcher: RunLauncher
    private let entries = Mutex<(runs: [String: Entry], clock: UInt64)>(([:], 0))

    init(store: any RunStore, doorbell: Doorbell, launcher: RunLauncher) {
        self.store = store
        self.doorbell = doorbell
        self.launcher = launcher
    }

    /// Where run `id` stands now; nil if there is no such run.
    func report(_ id: String) async throws -> RunStatusReport? {
        // Read before the store: whatever rang before this is in what the store gives below.
        let rings = doorbell.rings
        let known = entries.withLock { state -> Entry? in
            state.clock += 1
            state.runs[id]?.lastUsed = state.clock
            return state.runs[id]
        }
        guard var entry = known else { return try await load(id, rings: rings)?.report() }
        // A run that has ended may have been removed since (`sluice gc`).
        if !entry.progress.isActive, try await store.run(id: id) == nil {
            entries.withLock { _ = $0.runs.removeValue(forKey: id) }
            return nil
        }
        // A ring can be missed (events of a worker come through a connection that may drop): read at least every second.
        let now = ContinuousClock.now
        if entry.ownedHere && entry.rings == rings && entry.progress.run.status == .running && now - entry.readAt < .seconds(1) {
            return entry.progress.report()
        }
        if try await catchUp(&entry.progress) {
            entry.rings = rings
            entry.readAt = now
            return install(id, entry).report()
        }
        return try await load(id, rings: rings)?.report()
    }

    /// Reads the run whole: its record, its steps and the events since.
    private func load(_ id: String, rings: UInt64) async throws -> RunProgress? {
        let now = ContinuousClock.now
        while true {
            let seq = try await store.latestEventSeq()
            guard let run = try await store.run(id: id) else {
                entries.withLock { _ = $0.runs.removeValue(forKey: id) }
                return nil
            }
            let steps = try await store.stepRuns(runID: id)
            var progress = RunProgress(run: run, steps: steps, seq: seq, typicalSeconds: try await typicalSeconds(of: run))
            // An event meanwhile that changed what events do not say (a resume just now): read the run again.
            guard try await catchUp(&progress) else { continue }
            let ownedHere = await launcher.owns(id)
            return install(id, Entry(progress: progress, rings: rings, readAt: now, ownedHere: ownedHere, lastUsed: 0))
        }
    }

    /// Applies the run's events after the last applied; false when one of them needs the run read again.
    private func catchUp(_ progress: inout RunProgress) async throws -> Bool {
        while true {
            let events = try await store.events(after: progress.seq, runID: progress.run.id, limit: 1000)
            for event in events where !progress.apply(event) { return false }
            if events.count < 1000 { return true }
        }
    }

    /// Keeps `entry` unless a request that read later installed a newer one; returns what is kept.
    private func install(_ id: String, _ entry: Entry) -> RunProgress {
        entries.withLock { state in
            if let kept = state.runs[id], kept.progress.seq > entry.progress.seq { return kept.progress }
            state.clock += 1
            var entry = entry
            entry.lastUsed = state.clock
            state.runs[id] = entry
            if state.runs.count > Self.capacity, let oldest = state.runs.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
                state.runs.removeValue(forKey: oldest)
            }
            return entry.progress
        }
    }

    /// The median time of the pipeline's last five successful runs.
    private func typicalSeconds(of run: RunRecord) async throws -> Double? {
        let earlier = try await store.runs(RunFilter(pipeline: run.pipeline, status: .success), limit: 6, offset: 0)
        let times = earlier.filter { $0.id != run.id }.prefix(5).compactMap(\.duration).sorted()
        return times.isEmpty ? nil : times[times.count / 2]
    }
}

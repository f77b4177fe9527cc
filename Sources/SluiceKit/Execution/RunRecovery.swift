import Foundation

/// What every Sluice start does first: finds runs whose Sluice process died (kill -9, a crash, a power cut), ends
/// the step processes they left running, and records the runs and their running steps as interrupted, so that
/// `sluice resume` can continue them.
public enum RunRecovery {
    /// The ids of the runs it marked interrupted.
    public static func recoverAbandonedRuns(in store: any RunStore) async throws -> [String] {
        var recovered: [String] = []
        let live =
            try await store.runs(pipeline: nil, status: .running, limit: 10_000, offset: 0)
            + store.runs(pipeline: nil, status: .queued, limit: 10_000, offset: 0)
        for run in live where RunLease.isAbandoned(run) {
            if RunLease.isOwnedOnThisHost(run) {
                _ = try await offPool { ProcessTable.endLeftovers(ofRun: run.id) }
            }
            // Another Sluice process may recover the same run at the same moment: only one of them records it.
            if try await store.markInterrupted(run) { recovered.append(run.id) }
        }
        return recovered
    }

    /// Recovers abandoned runs every `interval` until cancelled, for processes that live long (a server, a scheduler):
    /// a run whose process died, or whose own process could no longer record it, does not stay `running` (and hold
    /// up a `concurrency: queue` pipeline) until the next start.
    public static func keepRecovering(
        in store: any RunStore, every interval: Duration,
        log: @escaping @Sendable (String) -> Void
    ) async {
        while !Task.isCancelled {
            do {
                for id in try await recoverAbandonedRuns(in: store) { log("run \(id) was interrupted: the Sluice process running it ended") }
            } catch {
                log("looking for abandoned runs failed: \(StoreLocation.explain(error))")
            }
            try? await Task.sleep(for: interval)
        }
    }
}

import Foundation

/// What every Sluice start does first: finds runs whose Sluice process died (kill -9, a crash, a power cut), ends
/// the step processes they left running, and records the runs and their running steps as interrupted, so that
/// `sluice resume` can continue them.
public enum RunRecovery {
    /// The ids of the runs it marked interrupted.
    public static func recoverAbandonedRuns(in store: any RunStore) async throws -> [String] {
        var recovered: [String] = []
        let live = try await store.runs(pipeline: nil, status: .running, limit: 10_000, offset: 0)
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
}

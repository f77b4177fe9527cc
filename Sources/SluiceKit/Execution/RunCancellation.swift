import Foundation

/// Cancelling a running run from any Sluice process (the API, a command), wherever the process that runs it is:
/// this process stops it directly, another of this host gets SIGTERM (which it turns into a clean cancel, as Ctrl-C),
/// and one on another host (a shared PostgreSQL store) finds a request in the store when it next renews its lease.
/// A pid recorded for another host's run means nothing here, and this process never signals itself.
public enum RunCancellation {
    /// How the run's owner was told.
    public enum Outcome: Sendable, Equatable {
        case cancelledHere
        case signalled(pid: Int32)
        /// Within a renewal interval (``RunLease/renewalInterval``), the owner on `host` cancels the run.
        case requested(host: String)
    }

    /// Cancels `run`; `launcher` holds the runs this process started in the background (a server's, a scheduler's).
    /// A run of `launcher`'s steps say `reason`.
    public static func cancel(
        _ run: RunRecord, store: any RunStore, launcher: RunLauncher? = nil,
        because reason: String? = nil
    ) async throws -> Outcome {
        guard run.status == .running else { throw notRunning(run.id, run.status) }
        if await launcher?.cancel(run.id, because: reason) == true { return .cancelledHere }
        if let host = run.ownerHost, !RunLease.isOwnedOnThisHost(run) {
            // An owner whose lease ran out is gone, and would never act on a request: the run is to be recovered.
            guard !RunLease.isAbandoned(run) else { throw ownerGone(run) }
            guard try await store.requestCancel(runID: run.id) else {
                throw notRunning(run.id, try await store.run(id: run.id)?.status ?? run.status)
            }
            return .requested(host: host)
        }
        // This process's own pid, for a run it does not run, was an earlier process's (a server restarted as pid 1).
        guard run.ownerPID != getpid(), ProcessTable.isSluice(run.ownerPID), kill(run.ownerPID, SIGTERM) == 0 else {
            throw ownerGone(run)
        }
        return .signalled(pid: run.ownerPID)
    }

    private static func notRunning(_ id: String, _ status: RunStatus) -> SluiceError {
        SluiceError(.conflict, "run \(id) is not running (it is \(status.rawValue))")
    }

    private static func ownerGone(_ run: RunRecord) -> SluiceError {
        SluiceError(.conflict, "run \(run.id) is recorded as running, but its Sluice process \(run.ownerPID) is gone")
    }
}

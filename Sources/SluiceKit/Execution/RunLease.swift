import Foundation

/// How one Sluice process owns a running run: its pid and host are recorded with the run, and it renews a lease in
/// the store while the run goes on. A run whose owner is gone (its process ended on this host, or its lease ran
/// out elsewhere) is abandoned, and the next Sluice start marks it interrupted (``RunRecovery``).
public enum RunLease {
    /// How long a lease lasts without renewal, and how often the owner renews it.
    public static let duration: TimeInterval = 30
    public static let renewalInterval: TimeInterval = 10
    public static let host = ProcessInfo.processInfo.hostName

    static func expiry(from now: Date = Date()) -> Date { now.addingTimeInterval(duration) }

    /// Whether `run` is recorded as running but nobody runs it any more. On this host the owner's process is
    /// checked, so a crash is seen at once and a live owner is never robbed because its renewal was late.
    static func isAbandoned(_ run: RunRecord, now: Date = Date()) -> Bool {
        guard run.status == .running || run.status == .queued else { return false }
        let leaseExpired = (run.leaseExpiresAt ?? .distantPast) < now
        if isOwnedOnThisHost(run) {
            // This process's own pid, for a run it does not run, is another process's: an earlier one (every server in
            // a container is pid 1) or another container's of the same host name. Its lease tells which.
            return run.ownerPID == getpid() ? !OwnedRuns.contains(run.id) && leaseExpired : !ProcessTable.isAlive(run.ownerPID)
        }
        return leaseExpired
    }

    /// Whether `run`'s owner is a process of this host (a run recorded before hosts were, too).
    static func isOwnedOnThisHost(_ run: RunRecord) -> Bool { run.ownerHost == nil || run.ownerHost == host }
}

/// Renews the lease of one run every ``RunLease/renewalInterval`` on a dispatch thread (a store write blocks, so
/// never on the cooperative pool), until stopped. A renewal that finds a cancel requested through the store calls
/// `onCancelRequest` (which may be called again by the next one). Unchecked: a dispatch source may be cancelled from
/// any thread.
final class LeaseHeartbeat: @unchecked Sendable {
    private let timer: any DispatchSourceTimer

    init(runID: String, store: any RunStore, onCancelRequest: @escaping @Sendable () -> Void = {}) {
        // A queue of its own: its thread may block on the store without starving the shared dispatch threads.
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "sluice.lease", qos: .utility))
        timer.schedule(deadline: .now() + RunLease.renewalInterval, repeating: RunLease.renewalInterval)
        timer.setEventHandler {
            if (try? store.renewLease(runID: runID, until: RunLease.expiry())) == true { onCancelRequest() }
        }
        timer.resume()
    }

    func stop() { timer.cancel() }
}

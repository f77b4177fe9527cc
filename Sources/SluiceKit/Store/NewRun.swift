import Foundation

/// A run to record: what ``RunStore/createRun(_:)`` takes.
public struct NewRun: Sendable {
    public var pipeline: String
    /// `cli`, `step`, `api`, `retry:ID`, `schedule`, `watch` or `backfill`.
    public var trigger: String
    public var parameters: [String: String]
    public var selection: Selection
    public var runsDirectory: String
    public var steps: [String]
    public var concurrency: ConcurrencyPolicy
    /// For a run a trigger started: which one, and for what.
    public var detail: TriggerDetail?
    /// What only one process may do, in the same transaction as recording the run; when another process did it
    /// first, the run is not recorded and ``TriggerClaimed`` is thrown.
    public var claim: TriggerClaim?

    public init(
        pipeline: String, trigger: String, parameters: [String: String] = [:], selection: Selection = Selection(),
        runsDirectory: String, steps: [String], concurrency: ConcurrencyPolicy = .allow, detail: TriggerDetail? = nil,
        claim: TriggerClaim? = nil
    ) {
        self.pipeline = pipeline
        self.trigger = trigger
        self.parameters = parameters
        self.selection = selection
        self.runsDirectory = runsDirectory
        self.steps = steps
        self.concurrency = concurrency
        self.detail = detail
        self.claim = claim
    }
}

extension RunRecord {
    /// The record of `new` under `id`, owned by this process: queued behind `earlier` (a run of its pipeline that
    /// `concurrency` waits for) or as a backfill's (which the backfill lets through), else running.
    init(_ new: NewRun, id: String, behind earlier: String?) {
        let queued = earlier != nil || new.detail?.maxActive != nil
        self.init(
            id: id, pipeline: new.pipeline, status: queued ? .queued : .running, trigger: new.trigger, parameters: new.parameters,
            selection: new.selection, runDirectory: (new.runsDirectory as NSString).appendingPathComponent(id),
            ownerPID: getpid(), ownerHost: RunLease.host, leaseExpiresAt: RunLease.expiry(), createdAt: Date(), finishedAt: nil,
            stepsTotal: new.steps.count, triggerDetail: new.detail)
    }
}

/// The check-and-set that makes a trigger fire once however many processes watch it.
public enum TriggerClaim: Sendable {
    /// The schedule's due time `at`: claimed only if the schedule's last handled time is earlier.
    case scheduled(pipeline: String, trigger: String, at: Date)
    /// The watched files as `snapshot` now: claimed only if the stored snapshot is still `from` (by fingerprint).
    case changed(pipeline: String, trigger: String, from: String?, to: WatchSnapshot)
    /// A backfill interval: claimed only if no run of it has succeeded or is under way.
    case interval(pipeline: String, interval: String)
}

/// Another process handled this trigger first.
public struct TriggerClaimed: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// The watched files, path to `size:modified`, and a fingerprint of them all.
public struct WatchSnapshot: Sendable, Equatable {
    public var files: [String: String]
    var fingerprint: String { SHA256.hex(of: Data(files.sorted { $0.key < $1.key }.map { "\($0.key)\t\($0.value)\n" }.joined().utf8)) }

    public init(files: [String: String]) { self.files = files }
}

/// A trigger's state in the store, shared by every process that watches it.
public struct TriggerState: Sendable, Equatable {
    public var pipeline: String
    public var name: String
    /// When a process first saw the trigger: a schedule starts nothing due before.
    public var since: Date
    /// A schedule's last due time that was run or skipped.
    var firedFor: Date?
    /// A watch's files as last handled.
    var snapshot: WatchSnapshot?
    public var lastRunID: String?
    /// Why its last attempt to start a run failed (a parameter its template produced was invalid, say).
    public var lastError: String?
}

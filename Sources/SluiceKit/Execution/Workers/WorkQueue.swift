import Foundation

/// Attempts waiting for workers, in the shared store. The process that runs a run queues its steps' attempts and
/// reads back how they went; `sluice worker` processes on any host claim them, run them and report.
///
/// An item moves `ready` → `claimed` (a worker took it, under a lease it renews) → `done` (its result is stored).
/// A cancel turns a ready item `done` at once and a claimed one `cancelling`; a claimed item whose lease ran out
/// becomes `lost`. Every move is one conditional statement, so a worker and the owner can never both decide an
/// item's end: a late worker's result is refused.
public protocol WorkQueue: Sendable {
    // The owner's side.
    /// Queues an attempt for a worker with all of `labels`; returns the item's id.
    func enqueue(_ order: AttemptOrder, labels: [String]) async throws -> Int64
    /// Cancels an item: a ready one ends at once with `cancelled`, a claimed one is stopped by its worker.
    func cancelWork(_ id: Int64, cancelled: AttemptResult) async throws
    /// How the items are doing. Claimed items whose lease has expired are turned `lost` first.
    func progress(of ids: [Int64]) async throws -> [WorkProgress]

    // A worker's side.
    /// Claims up to `limit` ready items this worker has the labels for and whose `resources:` fit together in `room`,
    /// skipping those others are claiming.
    func claimWork(worker: String, labels: [String], limit: Int, room: StepResources, lease: Double) async throws -> [ClaimedWork]
    /// Records the process id of a claimed item's step.
    func recordWorkStarted(_ id: Int64, worker: String, pid: Int32) async throws
    /// Extends the lease of every item the store says this worker holds; returns each one's state (`claimed` or
    /// `cancelling`: cancelled, or its run is no longer running). An item missing from the answer is no longer this
    /// worker's.
    func renewWork(worker: String, lease: Double) async throws -> [Int64: WorkState]
    /// Puts items back as `ready`: claims whose answer this worker never received (a timeout).
    func releaseWork(_ ids: [Int64], worker: String) async throws
    /// Stores an item's result, if the item is still this worker's; returns whether it was.
    func completeWork(_ id: Int64, worker: String, result: AttemptResult) async throws -> Bool

    /// Calls `wake` whenever items are queued or cancelled (for workers) or claimed or finished (for owners), until
    /// the task is cancelled.
    func followWorkNotifications(asWorker: Bool, _ wake: @escaping @Sendable () -> Void) async
}

/// Where a queued attempt stands: ready for a worker, claimed by one, being cancelled, done, or lost with its worker.
public enum WorkState: String, Sendable {
    case ready, claimed, cancelling, done, lost
}

/// What a worker reports of an attempt it runs.
public struct WorkProgress: Sendable {
    public var id: Int64
    public var state: WorkState
    public var worker: String?
    public var pid: Int32?
    public var result: AttemptResult?
}

/// An attempt a worker claimed: its id in the queue and what to run.
public struct ClaimedWork: Sendable {
    public var id: Int64
    public var order: AttemptOrder
}

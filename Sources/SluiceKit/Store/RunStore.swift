import Foundation

/// Durable state of runs, steps, attempts and events. SQLite is the embedded implementation; others share this shape.
public protocol RunStore: Sendable {
    /// Records a new run under a fresh short id that no other run in the store has, with its steps pending: running,
    /// or under `concurrency`, queued behind the pipeline's earlier runs, or refused (``RunRefused``) beside them.
    /// A backfill's runs (``TriggerDetail/maxActive``) start queued. With a claim, the run is recorded only if the
    /// claim holds (else ``TriggerClaimed``).
    func createRun(_ run: NewRun) async throws -> RunRecord
    /// Records several runs in one transaction (a backfill's intervals), each as ``createRun(_:)`` does; a run whose
    /// claim another run holds is left out, with why in its place.
    func createRuns(_ runs: [NewRun]) async throws -> [Result<RunRecord, TriggerClaimed>]
    /// Starts a queued run when its turn has come: no earlier run of its pipeline running or queued, or for a backfill's
    /// run, fewer than its `maxActive` running. Returns whether it started.
    func startIfFirstInQueue(runID: String) async throws -> Bool
    /// Writes a batch of events in one transaction. Blocks: call it from a thread of its own, never from
    /// the cooperative pool (``EventBatcher`` does).
    func write(_ events: [RunEvent]) throws
    /// The same from async code, without blocking a thread (the default runs ``write(_:)`` on a thread of its own).
    func writeEvents(_ events: [RunEvent]) async throws

    /// Runs newest first, those `filter` lets through.
    func runs(_ filter: RunFilter, limit: Int, offset: Int) async throws -> [RunRecord]
    /// How many runs `filter` lets through (a page's "of N").
    func countRuns(_ filter: RunFilter) async throws -> Int
    func run(id: String) async throws -> RunRecord?
    func stepRuns(runID: String) async throws -> [StepRunRecord]
    /// One step of a run (what a log follower checks on every wake-up, instead of reading every step).
    func stepRun(runID: String, step: String) async throws -> StepRunRecord?
    func attempts(runID: String) async throws -> [AttemptRecord]
    /// A page of a run's steps, whether more follow, and how many the query lets through in all: what big runs are
    /// read by.
    func stepRuns(runID: String, _ query: StepQuery) async throws -> (steps: [StepRunRecord], more: Bool, total: Int)
    /// The steps of several runs (a pipeline's history).
    func stepRuns(of runIDs: [String]) async throws -> [StepRunRecord]
    /// A page of a run's attempts, each with its step's position, and whether more follow.
    func attempts(runID: String, _ query: AttemptQuery) async throws -> (attempts: [PositionedAttempt], more: Bool)
    func events(runID: String, after seq: Int64) async throws -> [StoredEvent]
    /// Events of every run (or of one) after `seq`, in order, at most `limit`: what live views follow.
    func events(after seq: Int64, runID: String?, limit: Int) async throws -> [StoredEvent]
    /// The sequence number of the newest stored event (0 when there is none).
    func latestEventSeq() async throws -> Int64
    func stepStatuses(pipeline: String) async throws -> [StepStatusRecord]
    func setTested(pipeline: String, step: String, tested: Bool) async throws
    func recoveryActions(runID: String) async throws -> [RecoveryActionRecord]
    /// Totals across every run, for monitoring.
    func totals() async throws -> StoreTotals
    /// Extends the lease of a run this process owns (``LeaseHeartbeat``); returns whether a cancel of it was requested
    /// (``requestCancel(runID:)``). Blocks, like ``write(_:)``.
    @discardableResult
    func renewLease(runID: String, until: Date) throws -> Bool
    /// Takes one of the `size` slots of `pool` for `step` of run `runID`, unless the steps of the store's running runs
    /// hold them all (a run whose owner died holds none once its lease has run out). Blocks, like ``write(_:)``.
    func takePoolSlot(_ pool: String, size: Int, runID: String, step: String) throws -> Bool
    /// Gives back the slot `step` of run `runID` holds, if any; with no step, every slot the run holds. Blocks, like
    /// ``write(_:)``.
    func releasePoolSlot(runID: String, step: String?) throws
    /// Asks whichever process runs a running run, on any host, to cancel it: the owner finds the request when it next
    /// renews its lease. False when the run is not running.
    func requestCancel(runID: String) async throws -> Bool
    /// Records an abandoned run as interrupted: its running attempts and steps, then the run. Only if it is still
    /// running under the same owner; returns whether it did (another process may have recovered it first).
    func markInterrupted(_ run: RunRecord) async throws -> Bool
    /// Takes over a run that ended without succeeding, for this process to resume: the run is running again under a
    /// fresh lease and `steps` are pending. Nil when the run is not in a state to resume (another process took it).
    func claimForResume(runID: String, steps: [String]) async throws -> RunRecord?
    /// Removes finished runs (with their steps, attempts, events and recovery actions) that started before
    /// `before`, or that are not among the `keep` newest of their pipeline; running runs stay. Returns the removed
    /// runs, whose directories the caller deletes. `dryRun` only says which.
    func removeRuns(before: Date?, keep: Int?, dryRun: Bool) async throws -> [RunRecord]
    /// The schedules' and watches' shared state, of one pipeline or of all.
    func triggerStates(pipeline: String?) async throws -> [TriggerState]
    /// Records a trigger seen for the first time (a watch with the files already there); an existing one is kept.
    /// Returns its state.
    func registerTrigger(pipeline: String, name: String, since: Date, snapshot: WatchSnapshot?) async throws -> TriggerState
    /// Performs a claim without starting a run (a missed time skipped, a deletion noted); false if another process
    /// performed it first.
    func advanceTrigger(_ claim: TriggerClaim) async throws -> Bool
    /// Remembers why a trigger could not start its run (nil clears it).
    func recordTriggerError(pipeline: String, name: String, message: String?) async throws
    /// Pipelines whose triggers are paused, with when.
    func pausedPipelines() async throws -> [String: Date]
    func setPaused(pipeline: String, paused: Bool) async throws
    /// The schema migrations this store has, and those it lacks (applied when a store is opened normally).
    func schemaVersions() async throws -> (applied: [String], pending: [String])
    /// Calls `wake` whenever any process stores events, until the task is cancelled, so live views need not wait for
    /// their next poll. Stores that cannot tell return at once; their readers poll.
    func followEventNotifications(_ wake: @escaping @Sendable () -> Void) async
    /// Writes what another store holds into this one, which must have no runs yet (`sluice db copy`), in one
    /// transaction; events keep their numbers.
    func importContents(_ contents: StoreContents) async throws
    /// What change detection starts from: each step's last successful fingerprint, and every remembered file hash.
    func outputState(pipeline: String) async throws -> (fingerprints: [String: StepFingerprintRecord], hashes: [String: FileHash])
    /// Every successful fingerprint of the pipeline's steps whose run is still stored, by step, newest first: the run cache.
    func runCache(pipeline: String) async throws -> [String: [StepFingerprintRecord]]
}

extension RunStore {
    public func writeEvents(_ events: [RunEvent]) async throws {
        try await offPool { try self.write(events) }
    }

    public func followEventNotifications(_ wake: @escaping @Sendable () -> Void) async {}

    public func runs(pipeline: String?, status: RunStatus? = nil, limit: Int, offset: Int) async throws -> [RunRecord] {
        try await runs(RunFilter(pipeline: pipeline, status: status), limit: limit, offset: offset)
    }
}

/// Which runs a listing shows; nil lets every value through.
public struct RunFilter: Sendable, Equatable {
    public var pipeline: String?
    public var status: RunStatus?
    /// What started the run: `cli`, `api`, `schedule`…; a kind also takes in its qualified forms (`retry` takes `retry:ID`).
    public var trigger: String?

    public init(pipeline: String? = nil, status: RunStatus? = nil, trigger: String? = nil) {
        self.pipeline = pipeline
        self.status = status
        self.trigger = trigger
    }

    /// The `LIKE` pattern of the trigger's qualified forms (`retry:%`), its wildcards escaped with `\`.
    var qualifiedTriggerPattern: String? {
        trigger.map {
            $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_") + ":%"
        }
    }
}

/// Counts across every run of a store (the gauges `/metrics` exports; its counters come from events, since removing
/// runs lowers what the store holds).
public struct StoreTotals: Sendable {
    public var runsByStatus: [String: Int] = [:]
    public var stepsByState: [String: Int] = [:]
    /// Steps whose state is pending in runs that are running: waiting for upstream steps or a free slot.
    public var queuedSteps = 0
}

extension SluiceError {
    /// A store migrated by a newer Sluice, whose tables this one does not know.
    static let newerStore = SluiceError(
        .store, "a newer Sluice has upgraded this store, and this one cannot read it; run that version (`sluice --version` says which this is)")

    /// A run refused by `concurrency: reject` because run `blocking` of its pipeline is running.
    static func runRefused(pipeline: String, blocking: String) -> SluiceError {
        SluiceError(
            .conflict,
            "pipeline '\(pipeline)' runs one run at a time (concurrency: reject) and run \(blocking) is running; try again when it has ended")
    }
}

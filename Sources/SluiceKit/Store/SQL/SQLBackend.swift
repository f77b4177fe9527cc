import Foundation

/// What a store does with the statements of ``StoreSQL``: read rows, and write in one transaction. What both stores
/// do, they do through this, written once in the extension below (its public methods are the stores' ``RunStore``
/// methods); each store adds its own ways of recording events, creating runs, renewing leases and claiming triggers.
protocol SQLBackend: RunStore {
    var dialect: SQLDialect { get }
    /// Where the store is, for messages: its file, or its URL without the password.
    var location: String { get }
    /// The rows `statement` returns.
    func read<T: StoreRecord>(_ statement: SQLStatement, as type: T.Type) async throws -> [T]
    /// The first column of the first row `statement` returns; nil when no row came back or it is NULL.
    func readValue<T: StoreValue>(_ statement: SQLStatement, as type: T.Type) async throws -> T?
    /// In one transaction: `write.condition`, and when it returned rows, `write.then`. Returns the condition's rows.
    func write<T: StoreRecord>(_ write: GuardedWrite, returning type: T.Type) async throws -> [T]
}

/// A row that came back, whatever its columns.
struct AnyRow: StoreRecord {
    init(row: some StoreRow) throws {}
}

extension SQLBackend {
    /// Runs `statement` in a transaction of its own; says whether it returned a row (it applied).
    func apply(_ statement: SQLStatement) async throws -> Bool { try await apply(GuardedWrite(statement, then: [])) }

    func apply(_ write: GuardedWrite) async throws -> Bool { try await self.write(write, returning: AnyRow.self).isEmpty == false }

    public func runs(_ filter: RunFilter, limit: Int, offset: Int) async throws -> [RunRecord] {
        try await read(StoreSQL.runs(filter, limit: limit, offset: offset), as: RunRecord.self)
    }

    public func countRuns(_ filter: RunFilter) async throws -> Int { try await readValue(StoreSQL.countRuns(filter), as: Int.self) ?? 0 }

    public func run(id: String) async throws -> RunRecord? { try await read(StoreSQL.run(id), as: RunRecord.self).first }

    public func stepRuns(runID: String) async throws -> [StepRunRecord] { try await read(StoreSQL.stepRuns(runID), as: StepRunRecord.self) }

    public func stepRun(runID: String, step: String) async throws -> StepRunRecord? {
        try await read(StoreSQL.stepRun(runID, step: step), as: StepRunRecord.self).first
    }

    public func attempts(runID: String) async throws -> [AttemptRecord] { try await read(StoreSQL.attempts(runID), as: AttemptRecord.self) }

    public func stepRuns(runID: String, _ query: StepQuery) async throws -> (steps: [StepRunRecord], more: Bool, total: Int) {
        // One more than the page, to know whether another follows.
        var longer = query
        longer.limit += 1
        if let seq = query.changedAfter {
            let changes = try await read(StoreSQL.eventsChangingSteps(runID, after: seq), as: StoredEvent.self)
            // A resume or an interruption changed steps without an event each: all of them count as changed.
            if changes.contains(where: { $0.kind != "steps_added" }) { longer.changedAfter = nil }
            longer.fanOutsAdded = changes.compactMap(\.step)
        }
        let steps = try await read(StoreSQL.stepRuns(runID, longer), as: StepRunRecord.self)
        let page = Array(steps.prefix(query.limit)), more = steps.count > query.limit
        // A first page that is also the last is the whole of it.
        let whole = query.afterPosition == nil && !more
        return (page, more, whole ? page.count : try await readValue(StoreSQL.stepRuns(runID, longer, count: true), as: Int.self) ?? 0)
    }

    public func stepRuns(of runIDs: [String]) async throws -> [StepRunRecord] {
        runIDs.isEmpty ? [] : try await read(StoreSQL.stepRuns(of: runIDs), as: StepRunRecord.self)
    }

    public func attempts(runID: String, _ query: AttemptQuery) async throws -> (attempts: [PositionedAttempt], more: Bool) {
        var longer = query
        longer.limit += 1
        let attempts = try await read(StoreSQL.attempts(runID, longer), as: PositionedAttempt.self)
        return (Array(attempts.prefix(query.limit)), attempts.count > query.limit)
    }

    public func events(runID: String, after seq: Int64) async throws -> [StoredEvent] {
        try await read(StoreSQL.events(runID, after: seq), as: StoredEvent.self)
    }

    public func events(after seq: Int64, runID: String?, limit: Int) async throws -> [StoredEvent] {
        try await read(StoreSQL.events(after: seq, runID: runID, limit: limit), as: StoredEvent.self)
    }

    public func latestEventSeq() async throws -> Int64 { try await readValue(StoreSQL.latestEventSeq, as: Int64.self) ?? 0 }

    public func stepStatuses(pipeline: String) async throws -> [StepStatusRecord] {
        try await read(StoreSQL.stepStatuses(pipeline), as: StepStatusRecord.self)
    }

    public func setTested(pipeline: String, step: String, tested: Bool) async throws {
        _ = try await apply(StoreSQL.setTested(pipeline: pipeline, step: step, tested: tested))
    }

    public func recoveryActions(runID: String) async throws -> [RecoveryActionRecord] {
        try await read(StoreSQL.recoveryActions(runID), as: RecoveryActionRecord.self)
    }

    public func totals() async throws -> StoreTotals {
        var totals = StoreTotals()
        for row in try await read(StoreSQL.runsByStatus, as: CountRow.self) { totals.runsByStatus[row.key] = row.count }
        for row in try await read(StoreSQL.stepsByState, as: CountRow.self) { totals.stepsByState[row.key] = row.count }
        totals.queuedSteps = try await readValue(StoreSQL.queuedSteps, as: Int.self) ?? 0
        return totals
    }

    public func requestCancel(runID: String) async throws -> Bool { try await apply(StoreSQL.requestCancel(runID, at: Date())) }

    public func markInterrupted(_ run: RunRecord) async throws -> Bool { try await apply(StoreSQL.markInterrupted(run, at: Date())) }

    public func claimForResume(runID: String, steps: [String]) async throws -> RunRecord? {
        try await write(StoreSQL.claimForResume(runID, steps: steps, at: Date()), returning: RunRecord.self).first
    }

    public func removeRuns(before: Date?, keep: Int?, dryRun: Bool) async throws -> [RunRecord] {
        guard let statement = StoreSQL.endedRuns(before: before, keep: keep, delete: !dryRun) else { return [] }
        let runs =
            dryRun
            ? try await read(statement, as: RunRecord.self) : try await write(GuardedWrite(statement, then: []), returning: RunRecord.self)
        return runs.sorted { $0.createdAt < $1.createdAt }
    }

    public func importContents(_ contents: StoreContents) async throws {
        let statements = try StoreSQL.insertAll(contents, dialect) + dialect.afterImport
        let empty = SQLStatement("SELECT 1 AS empty WHERE NOT EXISTS (SELECT 1 FROM runs)")
        guard try await apply(GuardedWrite(empty, then: statements)) else {
            throw SluiceError(.store, "it already has runs; copy into an empty store", file: location)
        }
    }

    public func outputState(pipeline: String) async throws -> (fingerprints: [String: StepFingerprintRecord], hashes: [String: FileHash]) {
        let fingerprints = try await read(StoreSQL.fingerprints(pipeline), as: StepFingerprintRecord.self)
        let hashes = try await read(StoreSQL.fileHashes, as: FileHashRow.self)
        return (
            Dictionary(fingerprints.map { ($0.step, $0) }, uniquingKeysWith: { _, last in last }),
            Dictionary(hashes.map { ($0.path, $0.hash) }, uniquingKeysWith: { _, last in last })
        )
    }

    public func runCache(pipeline: String) async throws -> [String: [StepFingerprintRecord]] {
        Dictionary(grouping: try await read(StoreSQL.cache(pipeline), as: StepFingerprintRecord.self), by: \.step)
    }

    public func triggerStates(pipeline: String?) async throws -> [TriggerState] {
        try await read(StoreSQL.triggers(pipeline: pipeline), as: TriggerState.self)
    }

    public func registerTrigger(pipeline: String, name: String, since: Date, snapshot: WatchSnapshot?) async throws -> TriggerState {
        _ = try await apply(StoreSQL.registerTrigger(pipeline: pipeline, name: name, since: since, snapshot: snapshot))
        guard let state = try await read(StoreSQL.triggers(pipeline: pipeline, name: name), as: TriggerState.self).first else {
            throw SluiceError(.store, "trigger \(pipeline)/\(name) was not recorded")
        }
        return state
    }

    public func recordTriggerError(pipeline: String, name: String, message: String?) async throws {
        _ = try await apply(StoreSQL.recordTriggerError(pipeline: pipeline, name: name, message: message))
    }

    public func pausedPipelines() async throws -> [String: Date] {
        Dictionary(try await read(StoreSQL.pausedPipelines, as: PausedPipelineRow.self).map { ($0.pipeline, $0.at) }, uniquingKeysWith: { a, _ in a })
    }

    public func setPaused(pipeline: String, paused: Bool) async throws {
        _ = try await apply(StoreSQL.setPaused(pipeline: pipeline, paused: paused))
    }
}

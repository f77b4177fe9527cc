import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode, shared safely by several Sluice processes.
public final class SQLiteRunStore: RunStore {
    public let path: String
    let pool: DatabasePool

    /// Opens (creating if needed) the store at `path` and applies pending migrations (unless `migrate` is false:
    /// `sluice db status` looks without changing anything). A store that another process holds locked is waited for
    /// up to `timeout` seconds.
    public init(path: String, timeout: Double = 30, migrate: Bool = true) throws {
        self.path = path
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        } catch {
            throw SluiceError(.store, "cannot create its folder: \(error)", file: path)
        }
        // Processes that open a new store at the same moment would both create its tables and switch it to WAL;
        // opening (milliseconds, once per process) is serialized with a lock beside the file.
        let lock = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lock >= 0 else { throw SluiceError(.store, "cannot create \(path).lock: \(String(cString: strerror(errno)))", file: path) }
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 && errno == EINTR {}
        // Parameters, and whatever steps record, are the owner's alone: a new store file is created readable by its
        // owner only, and SQLite gives its -wal and -shm files the same mode. An existing file keeps its mode.
        let created = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if created >= 0 { close(created) }
        do {
            var configuration = GRDB.Configuration()
            configuration.busyMode = .timeout(timeout)
            pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB sets NORMAL when it opens WAL mode, which may lose the last commits on power loss. Only the writer
            // commits, so FULL on the writer connection makes every recorded state change survive it.
            try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
            // Checked with a read first: a store that is up to date opens without the write lock a migration takes.
            if migrate, try !pool.read(StoreSchema.migrator.hasCompletedMigrations) { try StoreSchema.migrator.migrate(pool) }
        } catch {
            throw SluiceError(.store, "cannot open: " + Self.explain(error), file: path)
        }
    }

    /// What an SQLite failure means for the user, and what to do; nothing is changed by a failed operation.
    public static func explain(_ error: any Error) -> String {
        guard let error = error as? DatabaseError else { return "\(error)" }
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return "another process holds the store locked (an sqlite3 shell, a backup?) and did not release it in time "
                + "(setting store_timeout); nothing was changed"
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return "the file is damaged or not an SQLite database; Sluice left it untouched. Restore it from a backup, or move it "
                + "aside and Sluice starts a new store (without the runs recorded in this one)"
        case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM:
            return "it cannot be written (a read-only file system or missing permissions) (\(error.message ?? "\(error.resultCode)"))"
        case .SQLITE_FULL: return "the disk is full; free space and run again"
        case .SQLITE_IOERR: return "the disk failed to read or write it (\(error.message ?? "I/O error"))"
        default: return "\(error)"
        }
    }

    public func createRun(_ new: NewRun) async throws -> RunRecord {
        try await pool.write { db in try Self.insert(new, db) }
    }

    public func createRuns(_ runs: [NewRun]) async throws -> [Result<RunRecord, TriggerClaimed>] {
        try await pool.write { db in
            try runs.map { new in
                do { return .success(try Self.insert(new, db)) } catch let claimed as TriggerClaimed { return .failure(claimed) }
            }
        }
    }

    private static func insert(_ new: NewRun, _ db: Database) throws -> RunRecord {
        // Checked in the same transaction as the insert: two starts at the same moment see each other.
        let earlier =
            new.concurrency == .allow
            ? nil
            : try String.fetchOne(
                db,
                sql: """
                    SELECT id FROM runs WHERE pipeline = ? AND status IN ('running', 'queued') ORDER BY createdAt LIMIT 1
                    """, arguments: [new.pipeline])
        if let earlier, new.concurrency == .reject { throw SluiceError.runRefused(pipeline: new.pipeline, blocking: earlier) }
        while true {
            let id = RunID.make()
            guard try RunRecord.fetchOne(db, key: id) == nil else { continue }
            // A claim that fails changes nothing, so the rest of a batch goes on.
            if let claim = new.claim { try TriggerSQL.apply(claim, db, runID: id) }
            let record = RunRecord(new, id: id, behind: earlier)
            try record.insert(db)
            // The steps exist from the start, so a client asking for one right after starting the run finds it.
            try EventSQL.insertPendingSteps(new.steps, run: id, db)
            return record
        }
    }

    public func write(_ events: [RunEvent]) throws {
        try pool.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                for event in events { try EventSQL.apply(event, db) }
                return .commit
            }
        }
    }

    public func startIfFirstInQueue(runID: String) async throws -> Bool {
        try await pool.write { db in
            // A backfill's runs run `maxActive` at a time (its process lets them through in order, see ``AsyncGate``);
            // other queued runs wait behind every earlier run of their pipeline.
            try db.execute(
                sql: """
                    UPDATE runs SET status = 'running' WHERE id = ? AND status = 'queued' AND CASE
                    WHEN json_extract(triggerDetail, '$.maxActive') IS NULL THEN NOT EXISTS (
                        SELECT 1 FROM runs AS earlier WHERE earlier.pipeline = runs.pipeline AND earlier.id <> runs.id
                        AND (earlier.status = 'running' OR (earlier.status = 'queued' AND earlier.createdAt < runs.createdAt)))
                    ELSE (SELECT count(*) FROM runs AS other WHERE other.pipeline = runs.pipeline AND other.status = 'running'
                          AND json_extract(other.triggerDetail, '$.backfill') = json_extract(runs.triggerDetail, '$.backfill'))
                         < json_extract(triggerDetail, '$.maxActive')
                    END
                    """, arguments: [runID])
            return db.changesCount == 1
        }
    }

    @discardableResult
    public func renewLease(runID: String, until: Date) throws -> Bool {
        try pool.write { db in
            // The owner's one write every renewal interval also reads whether it is asked to cancel.
            try Bool.fetchOne(
                db,
                sql: """
                    UPDATE runs SET leaseExpiresAt = ? WHERE id = ? AND status IN ('running', 'queued') AND ownerPID = ? AND ownerHost = ?
                    RETURNING cancelRequestedAt IS NOT NULL
                    """, arguments: [until.timeIntervalSince1970, runID, getpid(), RunLease.host]) ?? false
        }
    }

    public func requestCancel(runID: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE runs SET cancelRequestedAt = ? WHERE id = ? AND status = 'running'",
                arguments: [Date().timeIntervalSince1970, runID])
            return db.changesCount == 1
        }
    }

    public func markInterrupted(_ run: RunRecord) async throws -> Bool {
        try await pool.write { db in
            let now = Date().timeIntervalSince1970
            try db.execute(
                sql: """
                    UPDATE runs SET status = 'interrupted', finishedAt = ?, leaseExpiresAt = NULL
                    WHERE id = ? AND status IN ('running', 'queued') AND ownerPID = ? AND ownerHost IS ?
                    """, arguments: [now, run.id, run.ownerPID, run.ownerHost])
            guard db.changesCount == 1 else { return false }
            let why = "interrupted: the Sluice process running it (pid \(run.ownerPID)) ended"
            try db.execute(
                sql: "UPDATE attempts SET state = 'interrupted', finishedAt = ?, error = ? WHERE runID = ? AND state = 'running'",
                arguments: [now, why, run.id])
            try db.execute(
                sql: """
                    UPDATE stepRuns SET state = 'interrupted', finishedAt = ?, duration = ? - startedAt, error = ?
                    WHERE runID = ? AND state = 'running'
                    """, arguments: [now, now, why, run.id])
            try EventSQL.insertEvent(db, .text(run.id), .real(now), "run_interrupted", state: RunStatus.interrupted.rawValue, message: why)
            return true
        }
    }

    public func claimForResume(runID: String, steps: [String]) async throws -> RunRecord? {
        try await pool.write { db in
            let now = Date()
            try db.execute(
                sql: """
                    UPDATE runs SET status = 'running', finishedAt = NULL, ownerPID = ?, ownerHost = ?, leaseExpiresAt = ?, cancelRequestedAt = NULL
                    WHERE id = ? AND status IN ('failed', 'interrupted', 'cancelled', 'partial_success')
                    """, arguments: [getpid(), RunLease.host, RunLease.expiry(from: now).timeIntervalSince1970, runID])
            guard db.changesCount == 1 else { return nil }
            for step in steps {
                try db.execute(
                    sql: """
                        UPDATE stepRuns SET state = 'pending', reason = NULL, error = NULL, exitCode = NULL, startedAt = NULL, finishedAt = NULL,
                        duration = NULL, recovered = 0 WHERE runID = ? AND step = ?
                        """, arguments: [runID, step])
            }
            try EventSQL.insertEvent(db, .text(runID), .real(now.timeIntervalSince1970), "run_resumed", message: "\(steps.count) steps to run")
            return try RunRecord.fetchOne(db, key: runID)
        }
    }

    public func removeRuns(before: Date?, keep: Int?, dryRun: Bool) async throws -> [RunRecord] {
        try await pool.write { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let before {
                conditions.append("createdAt < ?")
                arguments += [before.timeIntervalSince1970]
            }
            if let keep {
                conditions.append(
                    """
                    (SELECT count(*) FROM runs AS newer WHERE newer.pipeline = runs.pipeline AND newer.createdAt > runs.createdAt) >= ?
                    """)
                arguments += [keep]
            }
            guard !conditions.isEmpty else { return [] }
            let doomed = try RunRecord.fetchAll(
                db,
                sql: """
                    SELECT * FROM runs WHERE status NOT IN ('running', 'queued') AND (\(conditions.joined(separator: " OR "))) ORDER BY createdAt
                    """, arguments: arguments)
            guard !dryRun else { return doomed }
            // Foreign keys cascade to stepRuns, attempts, events and recoveryActions.
            for run in doomed { try db.execute(sql: "DELETE FROM runs WHERE id = ?", arguments: [run.id]) }
            return doomed
        }
    }

    public func importContents(_ contents: StoreContents) async throws {
        try await pool.write { db in
            guard try Int.fetchOne(db, sql: "SELECT count(*) FROM runs") == 0 else {
                throw SluiceError(.store, "it already has runs; copy into an empty store", file: self.path)
            }
            for run in contents.runs { try run.insert(db) }
            for step in contents.stepRuns {
                try db.execute(
                    sql: """
                        INSERT INTO stepRuns (runID, step, position, state, reason, attempts, exitCode, startedAt, finishedAt, duration, error,
                        peakMemoryKB, cpuSeconds, allowedFailure, recovered, outputValues) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        step.runID, step.step, step.position, step.state.rawValue, step.reason, step.attempts, step.exitCode,
                        step.startedAt?.timeIntervalSince1970, step.finishedAt?.timeIntervalSince1970, step.duration, step.error,
                        step.peakMemoryKB, step.cpuSeconds, step.allowedFailure, step.recovered, try step.outputValues.map(jsonText),
                    ])
            }
            for attempt in contents.attempts {
                try db.execute(
                    sql: """
                        INSERT INTO attempts (runID, step, attempt, state, pid, startedAt, finishedAt, exitCode, signal, error, peakMemoryKB,
                        userCPU, systemCPU) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        attempt.runID, attempt.step, attempt.attempt, attempt.state.rawValue, attempt.pid,
                        attempt.startedAt.timeIntervalSince1970, attempt.finishedAt?.timeIntervalSince1970, attempt.exitCode,
                        attempt.signal, attempt.error, attempt.peakMemoryKB, attempt.userCPU, attempt.systemCPU,
                    ])
            }
            for event in contents.events {
                try db.execute(
                    sql: "INSERT INTO events (seq, runID, at, kind, step, attempt, state, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    arguments: [
                        event.seq, event.runID, event.at.timeIntervalSince1970, event.kind, event.step, event.attempt,
                        event.state, event.message,
                    ])
            }
            for (runID, record) in contents.recoveryActions {
                let action = record.action
                try db.execute(
                    sql: "INSERT INTO recoveryActions (runID, step, kind, target, status, message, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    arguments: [
                        runID, record.step, action.kind.rawValue, action.target, action.status.rawValue, action.message,
                        action.at.timeIntervalSince1970,
                    ])
            }
            for status in contents.stepStatuses {
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO stepStatus (pipeline, step, completed, tested, lastRun, lastRunID, lastState, lastDuration, error)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        status.pipeline, status.step, status.completed, status.tested, status.lastRun?.timeIntervalSince1970,
                        status.lastRunID, status.lastState?.rawValue, status.lastDuration, status.error,
                    ])
            }
            for record in contents.fingerprints {
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO stepFingerprints (pipeline, step, runID, recordedAt, fingerprint, outputs, outputValues)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        record.pipeline, record.step, record.runID, record.recordedAt.timeIntervalSince1970,
                        try jsonText(record.fingerprint), try jsonText(record.outputs), try record.outputValues.map(jsonText),
                    ])
            }
            for (path, hash) in contents.hashes {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO fileHashes (path, size, modifiedNS, inode, sha256) VALUES (?, ?, ?, ?, ?)",
                    arguments: [path, hash.size, hash.modifiedNS, Int64(bitPattern: hash.inode), hash.sha256])
            }
            for trigger in contents.triggers {
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO triggers (pipeline, name, since, firedFor, fingerprint, snapshot, lastRunID, lastError)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        trigger.pipeline, trigger.name, trigger.since.timeIntervalSince1970, trigger.firedFor?.timeIntervalSince1970,
                        trigger.snapshot?.fingerprint, try trigger.snapshot.map { try jsonText($0.files) }, trigger.lastRunID,
                        trigger.lastError,
                    ])
            }
            for (pipeline, at) in contents.paused {
                try db.execute(sql: "INSERT OR REPLACE INTO pausedPipelines VALUES (?, ?)", arguments: [pipeline, at.timeIntervalSince1970])
            }
        }
    }

    public func schemaVersions() async throws -> (applied: [String], pending: [String]) {
        try await pool.read { db in
            let applied = try StoreSchema.migrator.appliedIdentifiers(db)
            return (StoreSchema.migrator.migrations.filter(applied.contains), StoreSchema.migrator.migrations.filter { !applied.contains($0) })
        }
    }

    public func runs(_ filter: RunFilter, limit: Int, offset: Int) async throws -> [RunRecord] {
        try await pool.read { db in try Self.request(filter).order(Column("createdAt").desc).limit(limit, offset: offset).fetchAll(db) }
    }

    public func countRuns(_ filter: RunFilter) async throws -> Int {
        try await pool.read { db in try Self.request(filter).fetchCount(db) }
    }

    private static func request(_ filter: RunFilter) -> QueryInterfaceRequest<RunRecord> {
        var request = RunRecord.all()
        if let pipeline = filter.pipeline { request = request.filter(Column("pipeline") == pipeline) }
        if let status = filter.status { request = request.filter(Column("status") == status.rawValue) }
        if let trigger = filter.trigger, let pattern = filter.qualifiedTriggerPattern {
            request = request.filter(Column("trigger") == trigger || Column("trigger").like(pattern, escape: "\\"))
        }
        return request
    }

    public func run(id: String) async throws -> RunRecord? {
        try await pool.read { db in try RunRecord.fetchOne(db, key: id) }
    }

    public func stepRuns(runID: String) async throws -> [StepRunRecord] {
        try await pool.read { db in
            try StepRunRecord.filter(Column("runID") == runID).order(Column("position")).fetchAll(db)
        }
    }

    public func stepRun(runID: String, step: String) async throws -> StepRunRecord? {
        try await pool.read { db in try StepRunRecord.filter(Column("runID") == runID && Column("step") == step).fetchOne(db) }
    }

    public func attempts(runID: String) async throws -> [AttemptRecord] {
        try await pool.read { db in
            try AttemptRecord.filter(Column("runID") == runID).order(Column("startedAt"), Column("attempt")).fetchAll(db)
        }
    }

    public func events(runID: String, after seq: Int64) async throws -> [StoredEvent] {
        try await pool.read { db in
            try StoredEvent.filter(Column("runID") == runID && Column("seq") > seq).order(Column("seq")).fetchAll(db)
        }
    }

    public func events(after seq: Int64, runID: String?, limit: Int) async throws -> [StoredEvent] {
        try await pool.read { db in
            var request = StoredEvent.filter(Column("seq") > seq)
            if let runID { request = request.filter(Column("runID") == runID) }
            return try request.order(Column("seq")).limit(limit).fetchAll(db)
        }
    }

    public func latestEventSeq() async throws -> Int64 {
        try await pool.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM events") ?? 0 }
    }

    public func stepStatuses(pipeline: String) async throws -> [StepStatusRecord] {
        try await pool.read { db in
            try StepStatusRecord.fetchAll(db, sql: "SELECT * FROM stepStatus WHERE pipeline = ?", arguments: [pipeline])
        }
    }

    public func setTested(pipeline: String, step: String, tested: Bool) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO stepStatus (pipeline, step, tested) VALUES (?, ?, ?)
                    ON CONFLICT (pipeline, step) DO UPDATE SET tested = excluded.tested
                    """, arguments: [pipeline, step, tested])
        }
    }

    public func recoveryActions(runID: String) async throws -> [RecoveryActionRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM recoveryActions WHERE runID = ? ORDER BY at, rowid", arguments: [runID]).map { row in
                guard let kind = RecoveryAction.Kind(rawValue: row["kind"]), let status = RecoveryAction.Status(rawValue: row["status"]) else {
                    throw SluiceError(.store, "unknown recovery action '\(row["kind"] ?? "")' in the store")
                }
                return RecoveryActionRecord(
                    step: row["step"],
                    action: RecoveryAction(
                        kind: kind, target: row["target"], status: status, message: row["message"],
                        at: Date(timeIntervalSince1970: row["at"])))
            }
        }
    }

    public func totals() async throws -> StoreTotals {
        try await pool.read { db in
            var totals = StoreTotals()
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM runs GROUP BY status") {
                totals.runsByStatus[row["status"]] = row["n"]
            }
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM stepRuns GROUP BY state") {
                totals.stepsByState[row["state"]] = row["n"]
            }
            totals.queuedSteps =
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) FROM stepRuns JOIN runs ON runs.id = stepRuns.runID WHERE runs.status = 'running' AND stepRuns.state = 'pending'
                        """) ?? 0
            return totals
        }
    }

    public func triggerStates(pipeline: String?) async throws -> [TriggerState] {
        try await pool.read { db in try TriggerSQL.states(db, pipeline: pipeline) }
    }

    public func registerTrigger(pipeline: String, name: String, since: Date, snapshot: WatchSnapshot?) async throws -> TriggerState {
        try await pool.write { db in try TriggerSQL.register(pipeline: pipeline, name: name, since: since, snapshot: snapshot, db) }
    }

    public func advanceTrigger(_ claim: TriggerClaim) async throws -> Bool {
        do {
            try await pool.write { db in try TriggerSQL.apply(claim, db, runID: nil) }
            return true
        } catch is TriggerClaimed {
            return false
        }
    }

    public func recordTriggerError(pipeline: String, name: String, message: String?) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE triggers SET lastError = ? WHERE pipeline = ? AND name = ?", arguments: [message, pipeline, name])
        }
    }

    public func pausedPipelines() async throws -> [String: Date] {
        try await pool.read { db in
            Dictionary(
                uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT * FROM pausedPipelines").map {
                    ($0["pipeline"], Date(timeIntervalSince1970: $0["pausedAt"]))
                })
        }
    }

    public func setPaused(pipeline: String, paused: Bool) async throws {
        try await pool.write { db in
            if paused {
                try db.execute(
                    sql: "INSERT INTO pausedPipelines VALUES (?, ?) ON CONFLICT DO NOTHING", arguments: [pipeline, Date().timeIntervalSince1970])
            } else {
                try db.execute(sql: "DELETE FROM pausedPipelines WHERE pipeline = ?", arguments: [pipeline])
            }
        }
    }

    public func outputState(pipeline: String) async throws -> (fingerprints: [String: StepFingerprintRecord], hashes: [String: FileHash]) {
        try await pool.read { db in
            let decoder = JSONDecoder()
            var fingerprints: [String: StepFingerprintRecord] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM stepFingerprints WHERE pipeline = ?", arguments: [pipeline]) {
                let step: String = row["step"]
                fingerprints[step] = StepFingerprintRecord(
                    pipeline: pipeline, step: step, runID: row["runID"], recordedAt: Date(timeIntervalSince1970: row["recordedAt"]),
                    fingerprint: try decoder.decode(StepFingerprint.self, from: Data((row["fingerprint"] as String).utf8)),
                    outputs: try decoder.decode([String: String].self, from: Data((row["outputs"] as String).utf8)),
                    outputValues: try OutputValues.decode(row["outputValues"]))
            }
            var hashes: [String: FileHash] = [:]
            let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM fileHashes")
            while let row = try cursor.next() {
                hashes[row["path"]] = FileHash(
                    size: row["size"], modifiedNS: row["modifiedNS"],
                    inode: UInt64(bitPattern: row["inode"]), sha256: row["sha256"])
            }
            return (fingerprints, hashes)
        }
    }
}

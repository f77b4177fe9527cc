import Foundation
import GRDB

/// How each ``RunEvent`` changes SQLite's tables: the same facts as ``PostgresEventSQL`` records, in statements
/// prepared once per connection (the engine records eight rows per step; PostgreSQL's form saves round trips instead).
enum EventSQL {
    static func apply(_ event: RunEvent, _ db: Database) throws {
        let at = SQLValue.real(event.time.timeIntervalSince1970)
        let run = SQLValue.text(event.runID)
        switch event.kind {
        case let .runStarted(steps):
            // The pending step rows were written with the run (``SQLiteRunStore/createRun``).
            try insertEvent(db, run, at, "run_started", message: "\(steps.count) steps")
        case let .stepsAdded(step, instances):
            // After the run's own steps, in item order; a resumed run's instances have their rows already.
            let first =
                try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(position), -1) + 1 FROM step_runs WHERE runid = ?", arguments: [event.runID]) ?? 0
            try insertPendingSteps(instances, run: event.runID, from: first, db)
            try db.cachedStatement(sql: "UPDATE runs SET stepstotal = (SELECT count(*) FROM step_runs WHERE runid = ?) WHERE id = ?").run(run, run)
            try insertEvent(db, run, at, "steps_added", step: step, message: "\(instances.count) instances")
        case let .attemptStarted(step, attempt, pid):
            try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO attempts (runid, step, attempt, state, pid, startedat) VALUES (?, ?, ?, 'running', ?, ?)
                    """
            ).run(run, .text(step), .integer(attempt), .integer(pid), at)
            try db.cachedStatement(
                sql: """
                    UPDATE step_runs SET state = 'running', attempts = ?, startedat = COALESCE(startedat, ?) WHERE runid = ? AND step = ?
                    """
            ).run(.integer(attempt), at, run, .text(step))
            try insertEvent(db, run, at, "attempt_started", step: step, attempt: attempt, state: "running", message: "pid \(pid)")
        case let .attemptFinished(step, attempt, result):
            try db.cachedStatement(
                sql: """
                    UPDATE attempts SET state = ?, finishedat = ?, exitcode = ?, signal = ?, error = ?, peakmemorykb = ?, usercpu = ?,
                    systemcpu = ? WHERE runid = ? AND step = ? AND attempt = ?
                    """
            ).run(
                .text(result.state.rawValue), .real(result.finishedAt.timeIntervalSince1970), .integer(result.exitCode),
                .integer(result.signal), .text(result.error), .integer(result.peakMemoryKB), .real(result.userCPU),
                .real(result.systemCPU), run, .text(step), .integer(attempt))
            try db.cachedStatement(
                sql: """
                    INSERT INTO events (runid, at, kind, step, attempt, state, message, exitcode, duration, peakmemorykb)
                    VALUES (?, ?, 'attempt_finished', ?, ?, ?, ?, ?, ?, ?)
                    """
            ).run(
                run, at, .text(step), .integer(attempt), .text(result.state.rawValue), .text(result.error), .integer(result.exitCode),
                .real(result.duration), .integer(result.peakMemoryKB))
        case let .retryScheduled(step, attempt, delay):
            try insertEvent(db, run, at, "retry_scheduled", step: step, attempt: attempt, message: "attempt \(attempt) in \(delay)s")
        case let .stepFinished(step, state, attempts, allowed, result):
            let finished = SQLValue.real(result.finishedAt.timeIntervalSince1970)
            try db.cachedStatement(
                sql: """
                    UPDATE step_runs SET state = ?, attempts = ?, exitcode = ?, finishedat = ?, duration = ? - COALESCE(startedat, ?),
                    error = ?, peakmemorykb = ?, cpuseconds = ?, allowedfailure = ? WHERE runid = ? AND step = ?
                    """
            ).run(
                .text(state.rawValue), .integer(attempts), .integer(result.exitCode), finished, finished,
                .real(result.startedAt.timeIntervalSince1970), .text(result.error), .integer(result.peakMemoryKB),
                .real(result.userCPU + result.systemCPU), .bool(allowed), run, .text(step))
            // The step's duration as just recorded: from its first attempt's start, retry waits included.
            try db.cachedStatement(
                sql: """
                    INSERT INTO events (runid, at, kind, step, attempt, state, message, exitcode, duration, peakmemorykb)
                    VALUES (?, ?, 'step_finished', ?, ?, ?, ?, ?, (SELECT duration FROM step_runs WHERE runid = ? AND step = ?), ?)
                    """
            ).run(
                run, at, .text(step), .integer(attempts), .text(state.rawValue), .text(result.error), .integer(result.exitCode), run,
                .text(step), .integer(result.peakMemoryKB))
        case let .valuesRecorded(step, values):
            try db.cachedStatement(sql: "UPDATE step_runs SET outputvalues = ? WHERE runid = ? AND step = ?")
                .run(.text(try jsonText(values)), run, .text(step))
            try insertEvent(db, run, at, "values_recorded", step: step, message: OutputValues.listing(values))
        case let .stepSkipped(step, reason):
            try db.cachedStatement(sql: "UPDATE step_runs SET state = 'skipped', reason = ? WHERE runid = ? AND step = ?")
                .run(.text(reason), run, .text(step))
            try insertEvent(db, run, at, "step_skipped", step: step, state: "skipped", message: reason)
        case let .stepUpToDate(step, reason):
            try db.cachedStatement(sql: "UPDATE step_runs SET state = 'up_to_date', reason = ?, finishedat = ? WHERE runid = ? AND step = ?")
                .run(.text(reason), at, run, .text(step))
            try insertEvent(db, run, at, "step_up_to_date", step: step, state: StepState.upToDate.rawValue, message: reason)
        case let .outputsRecorded(step, record, newVersions):
            try db.cachedStatement(
                sql: """
                    INSERT INTO step_fingerprints (pipeline, step, runid, recordedat, fingerprint, outputs, outputvalues)
                    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (pipeline, step) DO UPDATE SET runid = excluded.runid, recordedat = excluded.recordedat,
                    fingerprint = excluded.fingerprint, outputs = excluded.outputs, outputvalues = excluded.outputvalues
                    """
            ).run(
                .text(record.pipeline), .text(step), run, .real(record.recordedAt.timeIntervalSince1970),
                .text(try jsonText(record.fingerprint)), .text(try jsonText(record.outputs)), .text(try record.outputValues.map(jsonText)))
            try db.cachedStatement(sql: StoreSQL.insertCacheEntrySQL).run(
                .text(record.pipeline), .text(step), .text(record.fingerprint.digest), run, .real(record.recordedAt.timeIntervalSince1970),
                .text(try jsonText(record.fingerprint)), .text(try jsonText(record.outputs)), .text(try record.outputValues.map(jsonText)))
            let versions = newVersions.map { "\($0.path) v\($0.version)" }.joined(separator: ", ")
            try insertEvent(
                db, run, at, "outputs_recorded", step: step,
                message: "\(record.outputs.count) outputs" + (versions.isEmpty ? ", no new version" : "; new versions: \(versions)"))
        case let .recoveryFinished(step, action):
            try db.cachedStatement(
                sql: """
                    INSERT INTO recovery_actions (runid, step, kind, target, status, message, at) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """
            ).run(
                run, .text(step), .text(action.kind.rawValue), .text(action.target), .text(action.status.rawValue),
                .text(action.message), .real(action.at.timeIntervalSince1970))
            if action.succeeded {
                try db.cachedStatement(sql: "UPDATE step_runs SET recovered = TRUE WHERE runid = ? AND step = ?").run(run, .text(step))
            }
            try insertEvent(
                db, run, at, "recovery_finished", step: step, state: action.status.rawValue,
                message: "\(action.kind.rawValue): \(action.message)")
        case let .filesHashed(hashes):
            let upsert = try db.cachedStatement(
                sql: """
                    INSERT INTO file_hashes (path, size, modifiedns, inode, sha256) VALUES (?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET
                    size = excluded.size, modifiedns = excluded.modifiedns, inode = excluded.inode, sha256 = excluded.sha256
                    """)
            for (path, hash) in hashes {
                try upsert.run(
                    .text(path), .integer(hash.size), .integer(hash.modifiedNS), .integer(Int64(bitPattern: hash.inode)), .text(hash.sha256))
            }
        case .reportsWritten:
            try insertEvent(db, run, at, "reports_written")
        case let .runFinished(status):
            try db.cachedStatement(sql: "UPDATE runs SET status = ?, finishedat = ?, leaseexpiresat = NULL WHERE id = ?")
                .run(.text(status.rawValue), at, run)
            // Each step's latest state across runs (what the status file shows), refreshed once per run rather than per step.
            try db.cachedStatement(
                sql: """
                    INSERT INTO step_status (pipeline, step, completed, lastrun, lastrunid, laststate, lastduration, error)
                    SELECT ?, step, state = 'succeeded', finishedat, runid, state, CASE WHEN state = 'succeeded' THEN duration END, error
                    FROM step_runs WHERE runid = ? AND attempts > 0 AND finishedat IS NOT NULL
                    ON CONFLICT (pipeline, step) DO UPDATE SET completed = excluded.completed, lastrun = excluded.lastrun,
                    lastrunid = excluded.lastrunid, laststate = excluded.laststate, error = excluded.error,
                    lastduration = COALESCE(excluded.lastduration, step_status.lastduration)
                    """
            ).run(.text(event.pipeline), run)
            try insertEvent(db, run, at, "run_finished", state: status.rawValue)
        }
    }

    static func insertPendingSteps(_ steps: [String], run: String, from first: Int = 0, _ db: Database) throws {
        for (position, step) in steps.enumerated() { try db.run(StoreSQL.insertPendingStep(run: run, step: step, position: first + position)) }
    }

    static func insertEvent(
        _ db: Database, _ run: SQLValue, _ at: SQLValue, _ kind: String, step: String? = nil,
        attempt: Int? = nil, state: String? = nil, message: String? = nil
    ) throws {
        try db.cachedStatement(sql: "INSERT INTO events (runid, at, kind, step, attempt, state, message) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .run(run, at, .text(kind), .text(step), .integer(attempt), .text(state), .text(message))
    }
}

import Foundation
import GRDB

/// How each ``RunEvent`` changes the tables: one place, so every backend records the same facts.
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
                try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(position), -1) + 1 FROM stepRuns WHERE runID = ?", arguments: [event.runID]) ?? 0
            try insertPendingSteps(instances, run: event.runID, from: first, db)
            try db.cachedStatement(sql: "UPDATE runs SET stepsTotal = (SELECT count(*) FROM stepRuns WHERE runID = ?) WHERE id = ?").run(run, run)
            try insertEvent(db, run, at, "steps_added", step: step, message: "\(instances.count) instances")
        case let .attemptStarted(step, attempt, pid):
            try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO attempts (runID, step, attempt, state, pid, startedAt) VALUES (?, ?, ?, 'running', ?, ?)
                    """
            ).run(run, .text(step), .integer(attempt), .integer(pid), at)
            try db.cachedStatement(
                sql: """
                    UPDATE stepRuns SET state = 'running', attempts = ?, startedAt = COALESCE(startedAt, ?) WHERE runID = ? AND step = ?
                    """
            ).run(.integer(attempt), at, run, .text(step))
            try insertEvent(db, run, at, "attempt_started", step: step, attempt: attempt, state: "running", message: "pid \(pid)")
        case let .attemptFinished(step, attempt, result):
            try db.cachedStatement(
                sql: """
                    UPDATE attempts SET state = ?, finishedAt = ?, exitCode = ?, signal = ?, error = ?, peakMemoryKB = ?, userCPU = ?,
                    systemCPU = ? WHERE runID = ? AND step = ? AND attempt = ?
                    """
            ).run(
                .text(result.state.rawValue), .real(result.finishedAt.timeIntervalSince1970), .integer(result.exitCode),
                .integer(result.signal), .text(result.error), .integer(result.peakMemoryKB), .real(result.userCPU),
                .real(result.systemCPU), run, .text(step), .integer(attempt))
            try insertEvent(db, run, at, "attempt_finished", step: step, attempt: attempt, state: result.state.rawValue, message: result.error)
        case let .retryScheduled(step, attempt, delay):
            try insertEvent(db, run, at, "retry_scheduled", step: step, attempt: attempt, message: "attempt \(attempt) in \(delay)s")
        case let .stepFinished(step, state, attempts, allowed, result):
            let finished = SQLValue.real(result.finishedAt.timeIntervalSince1970)
            try db.cachedStatement(
                sql: """
                    UPDATE stepRuns SET state = ?, attempts = ?, exitCode = ?, finishedAt = ?, duration = ? - COALESCE(startedAt, ?),
                    error = ?, peakMemoryKB = ?, cpuSeconds = ?, allowedFailure = ? WHERE runID = ? AND step = ?
                    """
            ).run(
                .text(state.rawValue), .integer(attempts), .integer(result.exitCode), finished, finished,
                .real(result.startedAt.timeIntervalSince1970), .text(result.error), .integer(result.peakMemoryKB),
                .real(result.userCPU + result.systemCPU), .bool(allowed), run, .text(step))
            try insertEvent(db, run, at, "step_finished", step: step, attempt: attempts, state: state.rawValue, message: result.error)
        case let .valuesRecorded(step, values):
            try db.cachedStatement(sql: "UPDATE stepRuns SET outputValues = ? WHERE runID = ? AND step = ?")
                .run(.text(try jsonText(values)), run, .text(step))
            try insertEvent(db, run, at, "values_recorded", step: step, message: OutputValues.listing(values))
        case let .stepSkipped(step, reason):
            try db.cachedStatement(sql: "UPDATE stepRuns SET state = 'skipped', reason = ? WHERE runID = ? AND step = ?")
                .run(.text(reason), run, .text(step))
            try insertEvent(db, run, at, "step_skipped", step: step, state: "skipped", message: reason)
        case let .stepUpToDate(step, reason):
            try db.cachedStatement(sql: "UPDATE stepRuns SET state = 'up_to_date', reason = ?, finishedAt = ? WHERE runID = ? AND step = ?")
                .run(.text(reason), at, run, .text(step))
            try insertEvent(db, run, at, "step_up_to_date", step: step, state: StepState.upToDate.rawValue, message: reason)
        case let .outputsRecorded(step, record, newVersions):
            try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO stepFingerprints (pipeline, step, runID, recordedAt, fingerprint, outputs, outputValues)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """
            ).run(
                .text(record.pipeline), .text(step), run, .real(record.recordedAt.timeIntervalSince1970),
                .text(try jsonText(record.fingerprint)), .text(try jsonText(record.outputs)), .text(try record.outputValues.map(jsonText)))
            let versions = newVersions.map { "\($0.path) v\($0.version)" }.joined(separator: ", ")
            try insertEvent(
                db, run, at, "outputs_recorded", step: step,
                message: "\(record.outputs.count) outputs" + (versions.isEmpty ? ", no new version" : "; new versions: \(versions)"))
        case let .recoveryFinished(step, action):
            try db.cachedStatement(
                sql: """
                    INSERT INTO recoveryActions (runID, step, kind, target, status, message, at) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """
            ).run(
                run, .text(step), .text(action.kind.rawValue), .text(action.target), .text(action.status.rawValue),
                .text(action.message), .real(action.at.timeIntervalSince1970))
            if action.succeeded {
                try db.cachedStatement(sql: "UPDATE stepRuns SET recovered = 1 WHERE runID = ? AND step = ?").run(run, .text(step))
            }
            try insertEvent(
                db, run, at, "recovery_finished", step: step, state: action.status.rawValue,
                message: "\(action.kind.rawValue): \(action.message)")
        case let .filesHashed(hashes):
            let upsert = try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO fileHashes (path, size, modifiedNS, inode, sha256) VALUES (?, ?, ?, ?, ?)")
            for (path, hash) in hashes {
                try upsert.run(
                    .text(path), .integer(hash.size), .integer(hash.modifiedNS), .integer(Int64(bitPattern: hash.inode)), .text(hash.sha256))
            }
        case .reportsWritten:
            try insertEvent(db, run, at, "reports_written")
        case let .runFinished(status):
            try db.cachedStatement(sql: "UPDATE runs SET status = ?, finishedAt = ?, leaseExpiresAt = NULL WHERE id = ?")
                .run(.text(status.rawValue), at, run)
            // Each step's latest state across runs (what the status file shows), refreshed once per run rather than per step.
            try db.cachedStatement(
                sql: """
                    INSERT INTO stepStatus (pipeline, step, completed, lastRun, lastRunID, lastState, lastDuration, error)
                    SELECT ?, step, state = 'succeeded', finishedAt, runID, state, CASE WHEN state = 'succeeded' THEN duration END, error
                    FROM stepRuns WHERE runID = ? AND attempts > 0 AND finishedAt IS NOT NULL
                    ON CONFLICT (pipeline, step) DO UPDATE SET completed = excluded.completed, lastRun = excluded.lastRun,
                    lastRunID = excluded.lastRunID, lastState = excluded.lastState, error = excluded.error,
                    lastDuration = COALESCE(excluded.lastDuration, stepStatus.lastDuration)
                    """
            ).run(.text(event.pipeline), run)
            try insertEvent(db, run, at, "run_finished", state: status.rawValue)
        }
    }

    static func insertPendingSteps(_ steps: [String], run: String, from first: Int = 0, _ db: Database) throws {
        let insert = try db.cachedStatement(
            sql: """
                INSERT OR IGNORE INTO stepRuns (runID, step, position, state, attempts, allowedFailure) VALUES (?, ?, ?, 'pending', 0, 0)
                """)
        for (position, step) in steps.enumerated() { try insert.run(.text(run), .text(step), .integer(first + position)) }
    }

    static func insertEvent(
        _ db: Database, _ run: SQLValue, _ at: SQLValue, _ kind: String, step: String? = nil,
        attempt: Int? = nil, state: String? = nil, message: String? = nil
    ) throws {
        try db.cachedStatement(sql: "INSERT INTO events (runID, at, kind, step, attempt, state, message) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .run(run, at, .text(kind), .text(step), .integer(attempt), .text(state), .text(message))
    }
}

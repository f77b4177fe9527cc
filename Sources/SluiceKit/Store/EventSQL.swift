import Foundation
import GRDB

/// How each ``RunEvent`` changes the tables: one place, so every backend records the same facts.
enum EventSQL {
    static func apply(_ event: RunEvent, _ db: Database) throws {
        let at = event.time.timeIntervalSince1970
        let run = event.runID
        switch event.kind {
        case let .runStarted(steps):
            let insert = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO stepRuns (runID, step, position, state, attempts, allowedFailure) VALUES (?, ?, ?, 'pending', 0, 0)
                """)
            for (position, step) in steps.enumerated() { try insert.execute(arguments: [run, step, position]) }
            try insertEvent(db, run, at, "run_started", message: "\(steps.count) steps")
        case let .attemptStarted(step, attempt, pid):
            try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO attempts (runID, step, attempt, state, pid, startedAt) VALUES (?, ?, ?, 'running', ?, ?)
                """).execute(arguments: [run, step, attempt, pid, at])
            try db.cachedStatement(sql: """
                UPDATE stepRuns SET state = 'running', attempts = ?, startedAt = COALESCE(startedAt, ?) WHERE runID = ? AND step = ?
                """).execute(arguments: [attempt, at, run, step])
            try insertEvent(db, run, at, "attempt_started", step: step, attempt: attempt, state: "running", message: "pid \(pid)")
        case let .attemptFinished(step, attempt, result):
            try db.cachedStatement(sql: """
                UPDATE attempts SET state = ?, finishedAt = ?, exitCode = ?, signal = ?, error = ?, peakMemoryKB = ?, userCPU = ?,
                systemCPU = ? WHERE runID = ? AND step = ? AND attempt = ?
                """).execute(arguments: [result.state.rawValue, result.finishedAt.timeIntervalSince1970, result.exitCode,
                                         result.signal, result.error, result.peakMemoryKB, result.userCPU, result.systemCPU,
                                         run, step, attempt])
            try insertEvent(db, run, at, "attempt_finished", step: step, attempt: attempt, state: result.state.rawValue, message: result.error)
        case let .retryScheduled(step, attempt, delay):
            try insertEvent(db, run, at, "retry_scheduled", step: step, attempt: attempt, message: "attempt \(attempt) in \(delay)s")
        case let .stepFinished(step, state, attempts, allowed, result):
            let finished = result.finishedAt.timeIntervalSince1970
            try db.cachedStatement(sql: """
                UPDATE stepRuns SET state = ?, attempts = ?, exitCode = ?, finishedAt = ?, duration = ? - COALESCE(startedAt, ?),
                error = ?, peakMemoryKB = ?, cpuSeconds = ?, allowedFailure = ? WHERE runID = ? AND step = ?
                """).execute(arguments: [state.rawValue, attempts, result.exitCode, finished, finished, result.startedAt.timeIntervalSince1970,
                                         result.error, result.peakMemoryKB, result.userCPU + result.systemCPU, allowed, run, step])
            let succeeded = state == .succeeded
            try db.cachedStatement(sql: """
                INSERT INTO stepStatus (pipeline, step, completed, lastRun, lastRunID, lastState, lastDuration, error)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (pipeline, step) DO UPDATE SET completed = excluded.completed, lastRun = excluded.lastRun,
                lastRunID = excluded.lastRunID, lastState = excluded.lastState, error = excluded.error,
                lastDuration = CASE WHEN excluded.completed THEN excluded.lastDuration ELSE stepStatus.lastDuration END
                """).execute(arguments: [event.pipeline, step, succeeded, finished, run, state.rawValue,
                                         succeeded ? result.duration : nil, result.error])
            try insertEvent(db, run, at, "step_finished", step: step, attempt: attempts, state: state.rawValue, message: result.error)
        case let .stepSkipped(step, reason):
            try db.cachedStatement(sql: "UPDATE stepRuns SET state = 'skipped', reason = ? WHERE runID = ? AND step = ?")
                .execute(arguments: [reason, run, step])
            try insertEvent(db, run, at, "step_skipped", step: step, state: "skipped", message: reason)
        case let .runFinished(status):
            try db.cachedStatement(sql: "UPDATE runs SET status = ?, finishedAt = ? WHERE id = ?")
                .execute(arguments: [status.rawValue, at, run])
            try insertEvent(db, run, at, "run_finished", state: status.rawValue)
        }
    }

    private static func insertEvent(_ db: Database, _ run: String, _ at: Double, _ kind: String, step: String? = nil,
                                    attempt: Int? = nil, state: String? = nil, message: String? = nil) throws {
        try db.cachedStatement(sql: "INSERT INTO events (runID, at, kind, step, attempt, state, message) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .execute(arguments: [run, at, kind, step, attempt, state, message])
    }
}

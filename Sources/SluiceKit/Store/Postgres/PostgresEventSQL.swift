import Foundation
import Logging
import PostgresNIO

/// How each ``RunEvent`` changes the PostgreSQL tables: the same facts as ``EventSQL`` writes to SQLite.
enum PostgresEventSQL {
    /// The advisory lock event writers hold, so that events are committed in the order of their numbers.
    static let lockKey: Int64 = 0x51_1CE_E
    /// Live views listen on this channel; each batch of events notifies it once.
    static let channel = "sluice_events"

    static func apply(_ event: RunEvent, _ connection: PostgresConnection, logger: Logger) async throws {
        let at = event.time.timeIntervalSince1970
        let run = event.runID
        func insert(_ kind: String, step: String? = nil, attempt: Int? = nil, state: String? = nil, message: String? = nil) async throws {
            try await insertEvent(connection, logger: logger, run: run, at: at, kind: kind, step: step, attempt: attempt, state: state, message: message)
        }
        switch event.kind {
        case let .runStarted(steps):
            try await insert("run_started", message: "\(steps.count) steps")
        case let .attemptStarted(step, attempt, pid):
            try await connection.query("""
                INSERT INTO attempts (runid, step, attempt, state, pid, startedat) VALUES (\(run), \(step), \(attempt), 'running', \(Int(pid)), \(at))
                ON CONFLICT (runid, step, attempt) DO UPDATE SET state = 'running', pid = excluded.pid, startedat = excluded.startedat,
                finishedat = NULL, exitcode = NULL, signal = NULL, error = NULL
                """, logger: logger)
            try await connection.query("""
                UPDATE step_runs SET state = 'running', attempts = \(attempt), startedat = COALESCE(startedat, \(at)) WHERE runid = \(run) AND step = \(step)
                """, logger: logger)
            try await insert("attempt_started", step: step, attempt: attempt, state: "running", message: "pid \(pid)")
        case let .attemptFinished(step, attempt, result):
            try await connection.query("""
                UPDATE attempts SET state = \(result.state.rawValue), finishedat = \(result.finishedAt.timeIntervalSince1970),
                exitcode = \(result.exitCode.map(Int.init)), signal = \(result.signal.map(Int.init)), error = \(result.error),
                peakmemorykb = \(result.peakMemoryKB), usercpu = \(result.userCPU), systemcpu = \(result.systemCPU)
                WHERE runid = \(run) AND step = \(step) AND attempt = \(attempt)
                """, logger: logger)
            try await insert("attempt_finished", step: step, attempt: attempt, state: result.state.rawValue, message: result.error)
        case let .retryScheduled(step, attempt, delay):
            try await insert("retry_scheduled", step: step, attempt: attempt, message: "attempt \(attempt) in \(delay)s")
        case let .stepFinished(step, state, attempts, allowed, result):
            let finished = result.finishedAt.timeIntervalSince1970
            try await connection.query("""
                UPDATE step_runs SET state = \(state.rawValue), attempts = \(attempts), exitcode = \(result.exitCode.map(Int.init)),
                finishedat = \(finished), duration = \(finished) - COALESCE(startedat, \(result.startedAt.timeIntervalSince1970)),
                error = \(result.error), peakmemorykb = \(result.peakMemoryKB), cpuseconds = \(result.userCPU + result.systemCPU),
                allowedfailure = \(allowed) WHERE runid = \(run) AND step = \(step)
                """, logger: logger)
            try await insert("step_finished", step: step, attempt: attempts, state: state.rawValue, message: result.error)
        case let .stepSkipped(step, reason):
            try await connection.query("UPDATE step_runs SET state = 'skipped', reason = \(reason) WHERE runid = \(run) AND step = \(step)",
                                       logger: logger)
            try await insert("step_skipped", step: step, state: "skipped", message: reason)
        case let .stepUpToDate(step, reason):
            try await connection.query("""
                UPDATE step_runs SET state = 'up_to_date', reason = \(reason), finishedat = \(at) WHERE runid = \(run) AND step = \(step)
                """, logger: logger)
            try await insert("step_up_to_date", step: step, state: StepState.upToDate.rawValue, message: reason)
        case let .outputsRecorded(step, record, newVersions):
            try await connection.query("""
                INSERT INTO step_fingerprints (pipeline, step, runid, recordedat, fingerprint, outputs) VALUES (\(record.pipeline), \(step),
                \(run), \(record.recordedAt.timeIntervalSince1970), \(try jsonText(record.fingerprint)), \(try jsonText(record.outputs)))
                ON CONFLICT (pipeline, step) DO UPDATE SET runid = excluded.runid, recordedat = excluded.recordedat,
                fingerprint = excluded.fingerprint, outputs = excluded.outputs
                """, logger: logger)
            let versions = newVersions.map { "\($0.path) v\($0.version)" }.joined(separator: ", ")
            try await insert("outputs_recorded", step: step,
                             message: "\(record.outputs.count) outputs" + (versions.isEmpty ? ", no new version" : "; new versions: \(versions)"))
        case let .recoveryFinished(step, action):
            try await connection.query("""
                INSERT INTO recovery_actions (runid, step, kind, target, status, message, at) VALUES (\(run), \(step), \(action.kind.rawValue),
                \(action.target), \(action.status.rawValue), \(action.message), \(action.at.timeIntervalSince1970))
                """, logger: logger)
            if action.succeeded {
                try await connection.query("UPDATE step_runs SET recovered = TRUE WHERE runid = \(run) AND step = \(step)", logger: logger)
            }
            try await insert("recovery_finished", step: step, state: action.status.rawValue, message: "\(action.kind.rawValue): \(action.message)")
        case let .filesHashed(hashes):
            for (path, hash) in hashes {
                try await connection.query("""
                    INSERT INTO file_hashes (path, size, modifiedns, inode, sha256) VALUES (\(path), \(hash.size), \(hash.modifiedNS),
                    \(Int64(bitPattern: hash.inode)), \(hash.sha256)) ON CONFLICT (path) DO UPDATE SET size = excluded.size,
                    modifiedns = excluded.modifiedns, inode = excluded.inode, sha256 = excluded.sha256
                    """, logger: logger)
            }
        case let .runFinished(status):
            try await connection.query("UPDATE runs SET status = \(status.rawValue), finishedat = \(at), leaseexpiresat = NULL WHERE id = \(run)",
                                       logger: logger)
            try await connection.query("""
                INSERT INTO step_status (pipeline, step, completed, lastrun, lastrunid, laststate, lastduration, error)
                SELECT \(event.pipeline), step, state = 'succeeded', finishedat, runid, state, CASE WHEN state = 'succeeded' THEN duration END, error
                FROM step_runs WHERE runid = \(run) AND attempts > 0 AND finishedat IS NOT NULL
                ON CONFLICT (pipeline, step) DO UPDATE SET completed = excluded.completed, lastrun = excluded.lastrun,
                lastrunid = excluded.lastrunid, laststate = excluded.laststate, error = excluded.error,
                lastduration = COALESCE(excluded.lastduration, step_status.lastduration)
                """, logger: logger)
            try await insert("run_finished", state: status.rawValue)
        }
    }

    static func insertEvent(_ connection: PostgresConnection, logger: Logger, run: String, at: Double, kind: String, step: String? = nil,
                            attempt: Int? = nil, state: String? = nil, message: String? = nil) async throws {
        try await connection.query("""
            INSERT INTO events (runid, at, kind, step, attempt, state, message) VALUES (\(run), \(at), \(kind), \(step), \(attempt), \(state), \(message))
            """, logger: logger)
    }
}

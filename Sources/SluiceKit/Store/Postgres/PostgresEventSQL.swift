import Foundation
import Logging
import PostgresNIO

/// How each ``RunEvent`` changes the PostgreSQL tables: the same facts as ``EventSQL`` writes to SQLite.
enum PostgresEventSQL {
    /// The advisory lock event writers hold, so that events are committed in the order of their numbers.
    static let lockKey: Int64 = 0x51_1CE_E
    /// Live views listen on this channel; each batch of events notifies it once.
    static let channel = "sluice_events"

    /// Applies `events` in their order. The events every step makes (an attempt's start and end, the step's end) go
    /// together, as one call of `sluice_record_step_events`, until another kind comes: a batch of a fan-out's events
    /// is one round trip, where it was one per event.
    static func apply(_ events: [RunEvent], _ connection: PostgresConnection, logger: Logger) async throws {
        var rows: [StepEventRow] = []
        for event in events {
            if let row = StepEventRow(event) {
                rows.append(row)
                continue
            }
            try await record(rows, connection, logger: logger)
            rows = []
            try await apply(event, connection, logger: logger)
        }
        try await record(rows, connection, logger: logger)
    }

    /// An attempt's start or end, or a step's end, as `sluice_record_step_events` reads it (migration 9).
    struct StepEventRow: Encodable {
        var kind: String
        var run: String
        var at: Double
        var step: String
        /// The attempt's number; for a step's end, how many attempts it made.
        var attempt: Int
        var pid: Int32?
        var state: String?
        var started: Double?
        var finished: Double?
        var exitCode: Int32?
        var signal: Int32?
        var error: String?
        var peakMemoryKB: Int?
        var userCPU: Double?
        var systemCPU: Double?
        var cpuSeconds: Double?
        var duration: Double?
        var allowed: Bool?

        init?(_ event: RunEvent) {
            let result: AttemptResult?
            switch event.kind {
            case let .attemptStarted(step, attempt, pid):
                (kind, self.step, self.attempt, self.pid, result) = ("attempt_started", step, attempt, pid, nil)
            case let .attemptFinished(step, attempt, finished):
                (kind, self.step, self.attempt, state, result) = ("attempt_finished", step, attempt, finished.state.rawValue, finished)
                (userCPU, systemCPU, duration) = (finished.userCPU, finished.systemCPU, finished.duration)
            case let .stepFinished(step, state, attempts, allowed, finished):
                (kind, self.step, attempt, self.state, self.allowed, result) = ("step_finished", step, attempts, state.rawValue, allowed, finished)
                (started, cpuSeconds) = (finished.startedAt.timeIntervalSince1970, finished.userCPU + finished.systemCPU)
            default:
                return nil
            }
            (run, at) = (event.runID, event.time.timeIntervalSince1970)
            if let result {
                (finished, exitCode, signal, error, peakMemoryKB) = (
                    result.finishedAt.timeIntervalSince1970, result.exitCode, result.signal, result.error, result.peakMemoryKB
                )
            }
        }
    }

    private static func record(_ rows: [StepEventRow], _ connection: PostgresConnection, logger: Logger) async throws {
        guard !rows.isEmpty else { return }
        let batch = String(decoding: try JSONEncoder().encode(rows), as: UTF8.self)
        try await connection.query("SELECT sluice_record_step_events(\(batch)::jsonb)", logger: logger)
    }

    /// Applies `event` in one statement (one round trip): its changes to the tables and its row in `events`, joined
    /// by data-modifying `WITH` clauses.
    private static func apply(_ event: RunEvent, _ connection: PostgresConnection, logger: Logger) async throws {
        let at = event.time.timeIntervalSince1970
        let run = event.runID
        let query: PostgresQuery
        switch event.kind {
        case let .runStarted(steps):
            query = "INSERT INTO events (runid, at, kind, message) VALUES (\(run), \(at), 'run_started', \("\(steps.count) steps"))"
        case let .stepsAdded(step, instances):
            // After the run's own steps, in item order; a resumed run's instances have their rows already. The count
            // is the run's rows and the new ones less those it had.
            query = """
                WITH base AS (SELECT COALESCE(MAX(position), -1) + 1 AS first FROM step_runs WHERE runid = \(run)),
                added AS (
                    INSERT INTO step_runs (runid, step, position, state, attempts)
                    SELECT \(run), name, base.first + ordinality - 1, 'pending', 0 FROM base, unnest(\(instances)::text[]) WITH ORDINALITY AS t(name, ordinality)
                    ON CONFLICT (runid, step) DO NOTHING RETURNING 1),
                total AS (
                    UPDATE runs SET stepstotal = (SELECT count(*) FROM step_runs WHERE runid = \(run)) + (SELECT count(*) FROM added) WHERE id = \(run))
                INSERT INTO events (runid, at, kind, step, message) VALUES (\(run), \(at), 'steps_added', \(step), \("\(instances.count) instances"))
                """
        case let .retryScheduled(step, attempt, delay):
            query = """
                INSERT INTO events (runid, at, kind, step, attempt, message)
                VALUES (\(run), \(at), 'retry_scheduled', \(step), \(attempt), \("attempt \(attempt) in \(delay)s"))
                """
        case let .valuesRecorded(step, values):
            query = """
                WITH stepvalues AS (UPDATE step_runs SET outputvalues = \(try jsonText(values)) WHERE runid = \(run) AND step = \(step))
                INSERT INTO events (runid, at, kind, step, message) VALUES (\(run), \(at), 'values_recorded', \(step), \(OutputValues.listing(values)))
                """
        case let .stepSkipped(step, reason):
            query = """
                WITH stepstate AS (UPDATE step_runs SET state = 'skipped', reason = \(reason) WHERE runid = \(run) AND step = \(step))
                INSERT INTO events (runid, at, kind, step, state, message) VALUES (\(run), \(at), 'step_skipped', \(step), 'skipped', \(reason))
                """
        case let .stepUpToDate(step, reason):
            query = """
                WITH stepstate AS (
                    UPDATE step_runs SET state = 'up_to_date', reason = \(reason), finishedat = \(at) WHERE runid = \(run) AND step = \(step))
                INSERT INTO events (runid, at, kind, step, state, message)
                VALUES (\(run), \(at), 'step_up_to_date', \(step), \(StepState.upToDate.rawValue), \(reason))
                """
        case let .outputsRecorded(step, record, newVersions):
            let versions = newVersions.map { "\($0.path) v\($0.version)" }.joined(separator: ", ")
            let message = "\(record.outputs.count) outputs" + (versions.isEmpty ? ", no new version" : "; new versions: \(versions)")
            query = """
                WITH fingerprint AS (
                    INSERT INTO step_fingerprints (pipeline, step, runid, recordedat, fingerprint, outputs, outputvalues) VALUES (\(record.pipeline),
                    \(step), \(run), \(record.recordedAt.timeIntervalSince1970), \(try jsonText(record.fingerprint)), \(try jsonText(record.outputs)),
                    \(try record.outputValues.map(jsonText)))
                    ON CONFLICT (pipeline, step) DO UPDATE SET runid = excluded.runid, recordedat = excluded.recordedat,
                    fingerprint = excluded.fingerprint, outputs = excluded.outputs, outputvalues = excluded.outputvalues),
                cache AS (
                    INSERT INTO step_cache (pipeline, step, digest, runid, recordedat, fingerprint, outputs, outputvalues) VALUES (\(record.pipeline),
                    \(step), \(record.fingerprint.digest), \(run), \(record.recordedAt.timeIntervalSince1970), \(try jsonText(record.fingerprint)),
                    \(try jsonText(record.outputs)), \(try record.outputValues.map(jsonText)))
                    ON CONFLICT (pipeline, step, digest) DO UPDATE SET runid = excluded.runid, recordedat = excluded.recordedat,
                    outputs = excluded.outputs, outputvalues = excluded.outputvalues)
                INSERT INTO events (runid, at, kind, step, message) VALUES (\(run), \(at), 'outputs_recorded', \(step), \(message))
                """
        case let .recoveryFinished(step, action):
            query = """
                WITH recovery AS (
                    INSERT INTO recovery_actions (runid, step, kind, target, status, message, at) VALUES (\(run), \(step), \(action.kind.rawValue),
                    \(action.target), \(action.status.rawValue), \(action.message), \(action.at.timeIntervalSince1970))),
                stepstate AS (UPDATE step_runs SET recovered = TRUE WHERE runid = \(run) AND step = \(step) AND \(action.succeeded))
                INSERT INTO events (runid, at, kind, step, state, message)
                VALUES (\(run), \(at), 'recovery_finished', \(step), \(action.status.rawValue), \("\(action.kind.rawValue): \(action.message)"))
                """
        case let .filesHashed(hashes):
            let entries = hashes.sorted { $0.key < $1.key }
            query = """
                INSERT INTO file_hashes (path, size, modifiedns, inode, sha256)
                SELECT * FROM unnest(\(entries.map(\.key))::text[], \(entries.map(\.value.size))::bigint[],
                    \(entries.map(\.value.modifiedNS))::bigint[], \(entries.map { Int64(bitPattern: $0.value.inode) })::bigint[],
                    \(entries.map(\.value.sha256))::text[])
                ON CONFLICT (path) DO UPDATE SET size = excluded.size, modifiedns = excluded.modifiedns, inode = excluded.inode,
                sha256 = excluded.sha256
                """
        case .attemptStarted, .attemptFinished, .stepFinished:
            // Alone, as a batch of one.
            return try await record(StepEventRow(event).map { [$0] } ?? [], connection, logger: logger)
        case .reportsWritten:
            query = "INSERT INTO events (runid, at, kind) VALUES (\(run), \(at), 'reports_written')"
        case let .runFinished(status):
            query = """
                WITH run AS (UPDATE runs SET status = \(status.rawValue), finishedat = \(at), leaseexpiresat = NULL WHERE id = \(run)),
                statuses AS (
                    INSERT INTO step_status (pipeline, step, completed, lastrun, lastrunid, laststate, lastduration, error)
                    SELECT \(event.pipeline), step, state = 'succeeded', finishedat, runid, state, CASE WHEN state = 'succeeded' THEN duration END, error
                    FROM step_runs WHERE runid = \(run) AND attempts > 0 AND finishedat IS NOT NULL
                    ON CONFLICT (pipeline, step) DO UPDATE SET completed = excluded.completed, lastrun = excluded.lastrun,
                    lastrunid = excluded.lastrunid, laststate = excluded.laststate, error = excluded.error,
                    lastduration = COALESCE(excluded.lastduration, step_status.lastduration))
                INSERT INTO events (runid, at, kind, state) VALUES (\(run), \(at), 'run_finished', \(status.rawValue))
                """
        }
        try await connection.query(query, logger: logger)
    }
}

import Foundation

/// The statements both stores run, written once. Both schemas name tables and columns alike (``StoreSchema`` v7,
/// ``PostgresSchema``), and SQLite 3.39 and PostgreSQL share the SQL used here: `RETURNING`, `ON CONFLICT`,
/// `IS NOT DISTINCT FROM`, `->>` on JSON, `TRUE`/`FALSE`. Only recording events has a statement set per store, each
/// tuned to its store (``EventSQL``, ``PostgresEventSQL``).
enum StoreSQL {
    // MARK: Runs

    static func insertRun(_ run: RunRecord, _ dialect: SQLDialect) throws -> SQLStatement {
        SQLStatement(
            """
            INSERT INTO runs (id, pipeline, status, trigger, parameters, selection, rundirectory, ownerpid, ownerhost, leaseexpiresat,
            createdat, finishedat, stepstotal, triggerdetail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \(dialect.jsonPlaceholder))
            """,
            [
                .text(run.id), .text(run.pipeline), .text(run.status.rawValue), .text(run.trigger), try .json(run.parameters),
                try .json(run.selection), .text(run.runDirectory), .integer(run.ownerPID), .text(run.ownerHost), .date(run.leaseExpiresAt),
                .date(run.createdAt), .date(run.finishedAt), .integer(run.stepsTotal), try .json(run.triggerDetail),
            ])
    }

    /// The pipeline's earliest run that is running or queued: what a new run with `concurrency` waits for.
    static func activeRun(pipeline: String) -> SQLStatement {
        SQLStatement(
            "SELECT id FROM runs WHERE pipeline = ? AND status IN ('running', 'queued') ORDER BY createdat LIMIT 1", [.text(pipeline)])
    }

    static func runExists(_ id: String) -> SQLStatement { SQLStatement("SELECT id FROM runs WHERE id = ?", [.text(id)]) }

    static func pipelineOfRun(_ id: String) -> SQLStatement { SQLStatement("SELECT pipeline FROM runs WHERE id = ?", [.text(id)]) }

    /// A run's steps, pending, from `position` on; rows it has already (a resumed run's instances) are kept.
    static func insertPendingStep(run: String, step: String, position: Int) -> SQLStatement {
        SQLStatement(
            """
            INSERT INTO step_runs (runid, step, position, state, attempts, allowedfailure) VALUES (?, ?, ?, 'pending', 0, FALSE)
            ON CONFLICT (runid, step) DO NOTHING
            """, [.text(run), .text(step), .integer(position)])
    }

    /// Starts a queued run when its turn has come: a backfill's runs go `maxActive` at a time (its process lets them
    /// through in order, see ``AsyncGate``); other queued runs wait behind every earlier run of their pipeline.
    static func startIfFirstInQueue(_ runID: String) -> SQLStatement {
        SQLStatement(
            """
            UPDATE runs SET status = 'running' WHERE id = ? AND status = 'queued' AND CASE
            WHEN triggerdetail->>'maxActive' IS NULL THEN NOT EXISTS (
                SELECT 1 FROM runs AS earlier WHERE earlier.pipeline = runs.pipeline AND earlier.id <> runs.id
                AND (earlier.status = 'running' OR (earlier.status = 'queued' AND earlier.createdat < runs.createdat)))
            ELSE (SELECT count(*) FROM runs AS other WHERE other.pipeline = runs.pipeline AND other.status = 'running'
                  AND other.triggerdetail->>'backfill' = runs.triggerdetail->>'backfill') < CAST(triggerdetail->>'maxActive' AS INTEGER)
            END RETURNING id
            """, [.text(runID)])
    }

    /// The owner's one write every renewal interval, which also reads whether it is asked to cancel.
    static func renewLease(_ runID: String, until: Date) -> SQLStatement {
        SQLStatement(
            """
            UPDATE runs SET leaseexpiresat = ? WHERE id = ? AND status IN ('running', 'queued') AND ownerpid = ? AND ownerhost = ?
            RETURNING cancelrequestedat IS NOT NULL
            """, [.date(until), .text(runID), .integer(getpid()), .text(RunLease.host)])
    }

    // MARK: Pools

    /// Takes a slot of `pool` when fewer than `size` are held by steps of running runs whose lease holds (one statement,
    /// so that two SQLite writers cannot both take the last slot; PostgreSQL callers hold the pool's lock too).
    static func takePoolSlot(_ pool: String, size: Int, runID: String, step: String, at now: Date) -> SQLStatement {
        SQLStatement(
            """
            INSERT INTO pool_slots (pool, runid, step, takenat) SELECT ?, ?, ?, ? WHERE (
                SELECT count(*) FROM pool_slots AS held JOIN runs ON runs.id = held.runid
                WHERE held.pool = ? AND NOT (held.runid = ? AND held.step = ?) AND runs.status = 'running' AND runs.leaseexpiresat >= ?
            ) < ?
            ON CONFLICT (runid, step) DO UPDATE SET pool = excluded.pool, takenat = excluded.takenat RETURNING runid
            """,
            [
                .text(pool), .text(runID), .text(step), .date(now), .text(pool), .text(runID), .text(step), .date(now),
                .integer(size),
            ])
    }

    static func releasePoolSlot(runID: String, step: String?) -> SQLStatement {
        guard let step else { return SQLStatement("DELETE FROM pool_slots WHERE runid = ?", [.text(runID)]) }
        return SQLStatement("DELETE FROM pool_slots WHERE runid = ? AND step = ?", [.text(runID), .text(step)])
    }

    static func requestCancel(_ runID: String, at: Date) -> SQLStatement {
        SQLStatement("UPDATE runs SET cancelrequestedat = ? WHERE id = ? AND status = 'running' RETURNING id", [.date(at), .text(runID)])
    }

    /// Ends `run` `interrupted`, with its running steps and attempts, if `run`'s owner still owns it.
    static func markInterrupted(_ run: RunRecord, at: Date) -> GuardedWrite {
        let why = "interrupted: the Sluice process running it (pid \(run.ownerPID)) ended"
        return GuardedWrite(
            SQLStatement(
                """
                UPDATE runs SET status = 'interrupted', finishedat = ?, leaseexpiresat = NULL
                WHERE id = ? AND status IN ('running', 'queued') AND ownerpid = ? AND ownerhost IS NOT DISTINCT FROM ? RETURNING id
                """, [.date(at), .text(run.id), .integer(run.ownerPID), .text(run.ownerHost)]),
            then: [
                SQLStatement(
                    "UPDATE attempts SET state = 'interrupted', finishedat = ?, error = ? WHERE runid = ? AND state = 'running'",
                    [.date(at), .text(why), .text(run.id)]),
                SQLStatement(
                    """
                    UPDATE step_runs SET state = 'interrupted', finishedat = ?, duration = ? - startedat, error = ?
                    WHERE runid = ? AND state = 'running'
                    """, [.date(at), .date(at), .text(why), .text(run.id)]),
                insertEvent(run.id, at: at, "run_interrupted", state: RunStatus.interrupted.rawValue, message: why),
            ])
    }

    /// Makes this process the owner of an ended run, and `steps` pending again.
    static func claimForResume(_ runID: String, steps: [String], at: Date) -> GuardedWrite {
        GuardedWrite(
            SQLStatement(
                """
                UPDATE runs SET status = 'running', finishedat = NULL, ownerpid = ?, ownerhost = ?, leaseexpiresat = ?, cancelrequestedat = NULL
                WHERE id = ? AND status IN ('failed', 'interrupted', 'cancelled', 'partial_success') RETURNING *
                """, [.integer(getpid()), .text(RunLease.host), .date(RunLease.expiry(from: at)), .text(runID)]),
            then: steps.map { step in
                SQLStatement(
                    """
                    UPDATE step_runs SET state = 'pending', reason = NULL, error = NULL, exitcode = NULL, startedat = NULL, finishedat = NULL,
                    duration = NULL, recovered = FALSE WHERE runid = ? AND step = ?
                    """, [.text(runID), .text(step)])
            } + [
                // The slots its steps held when it stopped are not theirs in this go.
                SQLStatement("DELETE FROM pool_slots WHERE runid = ?", [.text(runID)]),
                insertEvent(runID, at: at, "run_resumed", message: "\(steps.count) steps to run"),
            ])
    }

    /// The ended runs created before `before`, or with `keep` newer runs of their pipeline: selected, or deleted and
    /// returned (their steps, attempts, events and recovery actions go with them: foreign keys cascade). Nil when
    /// neither bound is given.
    static func endedRuns(before: Date?, keep: Int?, delete: Bool) -> SQLStatement? {
        var conditions: [String] = []
        var values: [SQLValue] = []
        if let before {
            conditions.append("createdat < ?")
            values.append(.date(before))
        }
        if let keep {
            conditions.append("(SELECT count(*) FROM runs AS newer WHERE newer.pipeline = runs.pipeline AND newer.createdat > runs.createdat) >= ?")
            values.append(.integer(keep))
        }
        guard !conditions.isEmpty else { return nil }
        let condition = "status NOT IN ('running', 'queued') AND (\(conditions.joined(separator: " OR ")))"
        return SQLStatement(delete ? "DELETE FROM runs WHERE \(condition) RETURNING *" : "SELECT * FROM runs WHERE \(condition)", values)
    }

    static func runs(_ filter: RunFilter, limit: Int, offset: Int) -> SQLStatement {
        let (clause, values) = condition(filter)
        return SQLStatement("SELECT * FROM runs\(clause) ORDER BY createdat DESC LIMIT ? OFFSET ?", values + [.integer(limit), .integer(offset)])
    }

    static func countRuns(_ filter: RunFilter) -> SQLStatement {
        let (clause, values) = condition(filter)
        return SQLStatement("SELECT count(*) FROM runs\(clause)", values)
    }

    /// The `WHERE` clause of `filter` (empty when it lets everything through) and its values.
    private static func condition(_ filter: RunFilter) -> (String, [SQLValue]) {
        var conditions: [String] = []
        var values: [SQLValue] = []
        if let pipeline = filter.pipeline {
            conditions.append("pipeline = ?")
            values.append(.text(pipeline))
        }
        if let status = filter.status {
            conditions.append("status = ?")
            values.append(.text(status.rawValue))
        }
        if let trigger = filter.trigger, let pattern = filter.qualifiedTriggerPattern {
            conditions.append("(trigger = ? OR trigger LIKE ? ESCAPE '\\')")
            values += [.text(trigger), .text(pattern)]
        }
        return (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "), values)
    }

    static func run(_ id: String) -> SQLStatement { SQLStatement("SELECT * FROM runs WHERE id = ?", [.text(id)]) }

    // MARK: Steps, attempts, events

    static func stepRuns(_ runID: String) -> SQLStatement {
        SQLStatement("SELECT * FROM step_runs WHERE runid = ? ORDER BY position", [.text(runID)])
    }

    /// The steps of each of `runIDs` (a pipeline's history).
    static func stepRuns(of runIDs: [String]) -> SQLStatement {
        SQLStatement(
            "SELECT * FROM step_runs WHERE runid IN (\(runIDs.map { _ in "?" }.joined(separator: ", "))) ORDER BY runid, position",
            runIDs.map { .text($0) })
    }

    /// A page of `query`'s steps, or with `count`, how many it lets through in all (ignoring its position and limit).
    static func stepRuns(_ runID: String, _ query: StepQuery, count: Bool = false) -> SQLStatement {
        var conditions = ["runid = ?"]
        var values: [SQLValue] = [.text(runID)]
        if !query.states.isEmpty {
            conditions.append("state IN (\(query.states.map { _ in "?" }.joined(separator: ", ")))")
            values += query.states.map { .text($0.rawValue) }
        }
        if let pattern = query.searchPattern {
            conditions.append("LOWER(step) LIKE ? ESCAPE '\\'")
            values.append(.text(pattern))
        }
        if let seq = query.changedAfter {
            // A fan-out's new instances have no event of their own: its `steps_added` event stands for them.
            let added = query.fanOutsAdded.map { _ in " OR substr(step, 1, CAST(? AS INTEGER)) = ?" }.joined()
            conditions.append("(step IN (SELECT step FROM events WHERE runid = ? AND seq > ? AND step IS NOT NULL)\(added))")
            values += [.text(runID), .integer(seq)] + query.fanOutsAdded.flatMap { [.integer($0.unicodeScalars.count + 1), .text($0 + "[")] }
        }
        if count { return SQLStatement("SELECT count(*) FROM step_runs WHERE " + conditions.joined(separator: " AND "), values) }
        if let position = query.afterPosition {
            conditions.append("position > ?")
            values.append(.integer(position))
        }
        return SQLStatement(
            "SELECT * FROM step_runs WHERE \(conditions.joined(separator: " AND ")) ORDER BY position LIMIT ?", values + [.integer(query.limit)])
    }

    /// A page of `query`'s attempts, each with its step's position (the page's cursor).
    static func attempts(_ runID: String, _ query: AttemptQuery) -> SQLStatement {
        var conditions = ["a.runid = ?"]
        var values: [SQLValue] = [.text(runID)]
        if let step = query.step {
            conditions.append("a.step = ?")
            values.append(.text(step))
        }
        if !query.states.isEmpty {
            conditions.append("a.state IN (\(query.states.map { _ in "?" }.joined(separator: ", ")))")
            values += query.states.map { .text($0.rawValue) }
        }
        if let after = query.after {
            conditions.append("(s.position > ? OR (s.position = ? AND a.attempt > ?))")
            values += [.integer(after.position), .integer(after.position), .integer(after.attempt)]
        }
        return SQLStatement(
            """
            SELECT a.*, s.position FROM attempts AS a JOIN step_runs AS s ON s.runid = a.runid AND s.step = a.step
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY s.position, a.attempt LIMIT ?
            """, values + [.integer(query.limit)])
    }

    static func stepRun(_ runID: String, step: String) -> SQLStatement {
        SQLStatement("SELECT * FROM step_runs WHERE runid = ? AND step = ?", [.text(runID), .text(step)])
    }

    static func attempts(_ runID: String) -> SQLStatement {
        SQLStatement("SELECT * FROM attempts WHERE runid = ? ORDER BY startedat, attempt", [.text(runID)])
    }

    /// The run's events after `seq` that change steps without naming each: a run resumed or interrupted, a fan-out's
    /// instances added.
    static func eventsChangingSteps(_ runID: String, after seq: Int64) -> SQLStatement {
        SQLStatement(
            "SELECT * FROM events WHERE runid = ? AND seq > ? AND kind IN ('steps_added', 'run_resumed', 'run_interrupted') ORDER BY seq",
            [.text(runID), .integer(seq)])
    }

    static func events(_ runID: String, after seq: Int64) -> SQLStatement {
        SQLStatement("SELECT * FROM events WHERE runid = ? AND seq > ? ORDER BY seq", [.text(runID), .integer(seq)])
    }

    static func events(after seq: Int64, runID: String?, limit: Int) -> SQLStatement {
        guard let runID else { return SQLStatement("SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?", [.integer(seq), .integer(limit)]) }
        return SQLStatement("SELECT * FROM events WHERE seq > ? AND runid = ? ORDER BY seq LIMIT ?", [.integer(seq), .text(runID), .integer(limit)])
    }

    static let latestEventSeq = SQLStatement("SELECT max(seq) FROM events")

    static func insertEvent(
        _ runID: String, at: Date, _ kind: String, step: String? = nil, attempt: Int? = nil, state: String? = nil, message: String? = nil
    ) -> SQLStatement {
        SQLStatement(insertEventSQL, [.text(runID), .date(at), .text(kind), .text(step), .integer(attempt), .text(state), .text(message)])
    }

    static let insertEventSQL = "INSERT INTO events (runid, at, kind, step, attempt, state, message) VALUES (?, ?, ?, ?, ?, ?, ?)"

    static func recoveryActions(_ runID: String) -> SQLStatement {
        SQLStatement("SELECT * FROM recovery_actions WHERE runid = ? ORDER BY at, id", [.text(runID)])
    }

    static let runsByStatus = SQLStatement("SELECT status AS name, count(*) AS n FROM runs GROUP BY status")
    static let stepsByState = SQLStatement("SELECT state AS name, count(*) AS n FROM step_runs GROUP BY state")
    static let queuedSteps = SQLStatement(
        "SELECT count(*) FROM step_runs JOIN runs ON runs.id = step_runs.runid WHERE runs.status = 'running' AND step_runs.state = 'pending'")

    // MARK: Status file, outputs

    static func stepStatuses(_ pipeline: String) -> SQLStatement {
        SQLStatement("SELECT * FROM step_status WHERE pipeline = ?", [.text(pipeline)])
    }

    static func setTested(pipeline: String, step: String, tested: Bool) -> SQLStatement {
        SQLStatement(
            "INSERT INTO step_status (pipeline, step, tested) VALUES (?, ?, ?) ON CONFLICT (pipeline, step) DO UPDATE SET tested = excluded.tested",
            [.text(pipeline), .text(step), .bool(tested)])
    }

    static func fingerprints(_ pipeline: String) -> SQLStatement {
        SQLStatement("SELECT * FROM step_fingerprints WHERE pipeline = ?", [.text(pipeline)])
    }

    static let fileHashes = SQLStatement("SELECT * FROM file_hashes")

    /// The run cache of a pipeline's steps, newest first.
    static func cache(_ pipeline: String) -> SQLStatement {
        SQLStatement("SELECT * FROM step_cache WHERE pipeline = ? ORDER BY recordedat DESC", [.text(pipeline)])
    }

    /// A successful attempt's fingerprint and outputs, as the run cache keeps them (by pipeline, step and digest).
    static let insertCacheEntrySQL = """
        INSERT INTO step_cache (pipeline, step, digest, runid, recordedat, fingerprint, outputs, outputvalues) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (pipeline, step, digest) DO UPDATE SET runid = excluded.runid, recordedat = excluded.recordedat, outputs = excluded.outputs,
        outputvalues = excluded.outputvalues
        """

    // MARK: Triggers

    static func triggers(pipeline: String?, name: String? = nil) -> SQLStatement {
        switch (pipeline, name) {
        case let (pipeline?, name?):
            SQLStatement("SELECT * FROM triggers WHERE pipeline = ? AND name = ?", [.text(pipeline), .text(name)])
        case let (pipeline?, nil): SQLStatement("SELECT * FROM triggers WHERE pipeline = ? ORDER BY name", [.text(pipeline)])
        case (nil, _): SQLStatement("SELECT * FROM triggers ORDER BY pipeline, name")
        }
    }

    static func registerTrigger(pipeline: String, name: String, since: Date, snapshot: WatchSnapshot?) throws -> SQLStatement {
        SQLStatement(
            "INSERT INTO triggers (pipeline, name, since, fingerprint, snapshot) VALUES (?, ?, ?, ?, ?) ON CONFLICT (pipeline, name) DO NOTHING",
            [.text(pipeline), .text(name), .date(since), .text(snapshot?.fingerprint), try .json(snapshot?.files)])
    }

    /// What `claim` does, in the transaction of the run it starts (`runID`) or on its own.
    static func claim(_ claim: TriggerClaim, runID: String?) throws -> SQLClaim {
        switch claim {
        case let .scheduled(pipeline, trigger, at):
            SQLClaim(
                SQLStatement(
                    """
                    UPDATE triggers SET firedfor = ?, lastrunid = COALESCE(?, lastrunid), lasterror = NULL
                    WHERE pipeline = ? AND name = ? AND (firedfor IS NULL OR firedfor < ?) RETURNING name
                    """, [.date(at), .text(runID), .text(pipeline), .text(trigger), .date(at)]),
                wonWhen: .aRowCameBack
            ) { _ in "\(pipeline)/\(trigger) was already handled for \(at) by another process" }
        case let .changed(pipeline, trigger, from, snapshot):
            SQLClaim(
                SQLStatement(
                    """
                    UPDATE triggers SET fingerprint = ?, snapshot = ?, lastrunid = COALESCE(?, lastrunid), lasterror = NULL
                    WHERE pipeline = ? AND name = ? AND fingerprint IS NOT DISTINCT FROM ? RETURNING name
                    """, [.text(snapshot.fingerprint), try .json(snapshot.files), .text(runID), .text(pipeline), .text(trigger), .text(from)]),
                wonWhen: .aRowCameBack
            ) { _ in "\(pipeline)/\(trigger): another process handled this change of the watched files" }
        case let .interval(pipeline, interval):
            // Two backfills of the same interval at once: the second waits for the first (its transaction, under
            // `lock`), then sees its run.
            SQLClaim(
                SQLStatement(
                    """
                    SELECT id FROM runs WHERE pipeline = ? AND triggerdetail->>'interval' = ? AND status IN ('success', 'running', 'queued') LIMIT 1
                    """, [.text(pipeline), .text(interval)]),
                wonWhen: .noRowCameBack, lock: pipeline + "\u{1}" + interval
            ) { run in "\(pipeline) \(interval): run \(run ?? "") succeeded or is under way" }
        }
    }

    static func recordTriggerError(pipeline: String, name: String, message: String?) -> SQLStatement {
        SQLStatement("UPDATE triggers SET lasterror = ? WHERE pipeline = ? AND name = ?", [.text(message), .text(pipeline), .text(name)])
    }

    static let pausedPipelines = SQLStatement("SELECT * FROM paused_pipelines")

    static func setPaused(pipeline: String, paused: Bool, at: Date = Date()) -> SQLStatement {
        paused
            ? SQLStatement("INSERT INTO paused_pipelines (pipeline, pausedat) VALUES (?, ?) ON CONFLICT DO NOTHING", [.text(pipeline), .date(at)])
            : SQLStatement("DELETE FROM paused_pipelines WHERE pipeline = ?", [.text(pipeline)])
    }

    // MARK: Copying a store

    static let countAllRuns = SQLStatement("SELECT count(*) FROM runs")

    /// Every row of `contents`, to write into a store without runs. Where the target has a row already (a trigger a
    /// server registered, a fingerprint whose runs were removed), the copy's replaces it.
    static func insertAll(_ contents: StoreContents, _ dialect: SQLDialect) throws -> [SQLStatement] {
        var statements = try contents.runs.map { try insertRun($0, dialect) }
        for step in contents.stepRuns {
            statements.append(
                SQLStatement(
                    """
                    INSERT INTO step_runs (runid, step, position, state, reason, attempts, exitcode, startedat, finishedat, duration, error,
                    peakmemorykb, cpuseconds, allowedfailure, recovered, outputvalues) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .text(step.runID), .text(step.step), .integer(step.position), .text(step.state.rawValue), .text(step.reason),
                        .integer(step.attempts), .integer(step.exitCode), .date(step.startedAt), .date(step.finishedAt), .real(step.duration),
                        .text(step.error), .integer(step.peakMemoryKB), .real(step.cpuSeconds), .bool(step.allowedFailure),
                        .bool(step.recovered), try .json(step.outputValues),
                    ]))
        }
        for attempt in contents.attempts {
            statements.append(
                SQLStatement(
                    """
                    INSERT INTO attempts (runid, step, attempt, state, pid, startedat, finishedat, exitcode, signal, error, peakmemorykb,
                    usercpu, systemcpu) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .text(attempt.runID), .text(attempt.step), .integer(attempt.attempt), .text(attempt.state.rawValue),
                        .integer(attempt.pid), .date(attempt.startedAt), .date(attempt.finishedAt), .integer(attempt.exitCode),
                        .integer(attempt.signal), .text(attempt.error), .integer(attempt.peakMemoryKB), .real(attempt.userCPU),
                        .real(attempt.systemCPU),
                    ]))
        }
        for event in contents.events {
            statements.append(
                SQLStatement(
                    """
                    INSERT INTO events (seq, runid, at, kind, step, attempt, state, message, exitcode, duration, peakmemorykb)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .integer(event.seq), .text(event.runID), .date(event.at), .text(event.kind), .text(event.step),
                        .integer(event.attempt), .text(event.state), .text(event.message), .integer(event.exitCode),
                        .real(event.duration), .integer(event.peakMemoryKB),
                    ]))
        }
        for (runID, record) in contents.recoveryActions {
            let action = record.action
            statements.append(
                SQLStatement(
                    "INSERT INTO recovery_actions (runid, step, kind, target, status, message, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        .text(runID), .text(record.step), .text(action.kind.rawValue), .text(action.target), .text(action.status.rawValue),
                        .text(action.message), .date(action.at),
                    ]))
        }
        for status in contents.stepStatuses {
            statements.append(
                SQLStatement(
                    """
                    INSERT INTO step_status (pipeline, step, completed, tested, lastrun, lastrunid, laststate, lastduration, error)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (pipeline, step) DO UPDATE SET completed = excluded.completed, tested = excluded.tested, lastrun = excluded.lastrun,
                    lastrunid = excluded.lastrunid, laststate = excluded.laststate, lastduration = excluded.lastduration, error = excluded.error
                    """,
                    [
                        .text(status.pipeline), .text(status.step), .bool(status.completed), .bool(status.tested), .date(status.lastRun),
                        .text(status.lastRunID), .text(status.lastState?.rawValue), .real(status.lastDuration), .text(status.error),
                    ]))
        }
        for record in contents.fingerprints {
            statements.append(
                SQLStatement(
                    """
                    INSERT INTO step_fingerprints (pipeline, step, runid, recordedat, fingerprint, outputs, outputvalues)
                    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (pipeline, step) DO UPDATE SET runid = excluded.runid,
                    recordedat = excluded.recordedat, fingerprint = excluded.fingerprint, outputs = excluded.outputs,
                    outputvalues = excluded.outputvalues
                    """,
                    [
                        .text(record.pipeline), .text(record.step), .text(record.runID), .date(record.recordedAt), try .json(record.fingerprint),
                        try .json(record.outputs), try .json(record.outputValues),
                    ]))
        }
        for record in contents.cache {
            statements.append(
                SQLStatement(
                    insertCacheEntrySQL,
                    [
                        .text(record.pipeline), .text(record.step), .text(record.fingerprint.digest), .text(record.runID), .date(record.recordedAt),
                        try .json(record.fingerprint), try .json(record.outputs), try .json(record.outputValues),
                    ]))
        }
        for (path, hash) in contents.hashes.sorted(by: { $0.key < $1.key }) {
            statements.append(
                SQLStatement(
                    """
                    INSERT INTO file_hashes (path, size, modifiedns, inode, sha256) VALUES (?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET
                    size = excluded.size, modifiedns = excluded.modifiedns, inode = excluded.inode, sha256 = excluded.sha256
                    """,
                    [.text(path), .integer(hash.size), .integer(hash.modifiedNS), .integer(Int64(bitPattern: hash.inode)), .text(hash.sha256)]))
        }
        for trigger in contents.triggers {
            statements.append(
                SQLStatement(
                    """
                    INSERT INTO triggers (pipeline, name, since, firedfor, fingerprint, snapshot, lastrunid, lasterror)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (pipeline, name) DO UPDATE SET since = excluded.since,
                    firedfor = excluded.firedfor, fingerprint = excluded.fingerprint, snapshot = excluded.snapshot,
                    lastrunid = excluded.lastrunid, lasterror = excluded.lasterror
                    """,
                    [
                        .text(trigger.pipeline), .text(trigger.name), .date(trigger.since), .date(trigger.firedFor),
                        .text(trigger.snapshot?.fingerprint), try .json(trigger.snapshot?.files), .text(trigger.lastRunID),
                        .text(trigger.lastError),
                    ]))
        }
        for (pipeline, at) in contents.paused.sorted(by: { $0.key < $1.key }) {
            statements.append(setPaused(pipeline: pipeline, paused: true, at: at))
        }
        return statements
    }
}

/// A write both stores make in one transaction: `condition` first, and only when it returns a row (it applied), the
/// statements `then`.
struct GuardedWrite: Sendable {
    var condition: SQLStatement
    var then: [SQLStatement]

    init(_ condition: SQLStatement, then: [SQLStatement]) {
        self.condition = condition
        self.then = then
    }
}

/// A claim only one process may make, checked by a statement in the transaction that acts on it.
struct SQLClaim: Sendable {
    enum Outcome: Sendable { case aRowCameBack, noRowCameBack }

    var statement: SQLStatement
    /// When the claim is this process's.
    var wonWhen: Outcome
    /// A key the PostgreSQL store holds an advisory lock on first, where concurrent claims must queue (SQLite's
    /// write transactions are one at a time already).
    var lock: String?
    /// Why it is not, when another process made it first, given the first column of the row that came back.
    var lost: @Sendable (String?) -> String

    init(_ statement: SQLStatement, wonWhen: Outcome, lock: String? = nil, lost: @escaping @Sendable (String?) -> String) {
        self.statement = statement
        self.wonWhen = wonWhen
        self.lock = lock
        self.lost = lost
    }

    /// Throws ``TriggerClaimed`` unless the claim is won, given the first column of the row that came back, if one did.
    func check(_ returned: String?) throws {
        guard (returned != nil) == (wonWhen == .aRowCameBack) else { throw TriggerClaimed(description: lost(returned)) }
    }
}

import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The shared store: one PostgreSQL database, used by servers, CLIs and workers on several hosts. It records the same
/// facts as ``SQLiteRunStore`` with the same guarantees: every claim (a queued run's turn, a trigger's due time, a
/// backfill's interval) is checked in the transaction that acts on it.
public final class PostgresRunStore: RunStore {
    public let url: String
    let client: PostgresClient
    let logger: Logger
    private let running: Task<Void, Never>

    /// Connects to the database at `url` (`postgres://user:password@host:port/database`) and applies pending migrations
    /// (unless `migrate` is false).
    public init(url: String, migrate: Bool = true) async throws {
        let configuration: PostgresClient.Configuration
        let probeConfiguration: PostgresConnection.Configuration
        do {
            let address = try PostgresAddress.parse(url).get()
            configuration = try address.clientConfiguration()
            probeConfiguration = try address.connectionConfiguration()
        } catch {
            throw SluiceError(
                .store, "not a usable PostgreSQL URL: it \((error as? AddressProblem)?.message ?? "\(error)")", file: Self.redacted(url))
        }
        self.url = url
        logger = Logger(label: "sluice.postgres")
        // One connection first: the pool only says that connecting failed, this says why (no such database, a
        // wrong password, nobody listening, no TLS).
        do {
            let probe = try await PostgresConnection.connect(configuration: probeConfiguration, id: 0, logger: logger)
            try await probe.close()
        } catch {
            throw SluiceError(.store, "cannot connect: \(Self.explain(error))", file: Self.redacted(url))
        }
        client = PostgresClient(configuration: configuration)
        let client = client
        running = Task { await client.run() }
        do {
            if migrate { try await PostgresSchema.migrate(client, logger: logger) }
        } catch {
            running.cancel()
            throw SluiceError(.store, "cannot open: \(Self.explain(error))", file: Self.redacted(url))
        }
    }

    deinit { running.cancel() }

    /// The driver's configuration for `url`, or nil when it is no usable PostgreSQL URL.
    public static func configuration(_ url: String) -> PostgresClient.Configuration? {
        try? PostgresAddress.parse(url).get().clientConfiguration()
    }

    /// The URL without its password, for messages.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }

    /// What a PostgreSQL failure means, without the driver's internals.
    public static func explain(_ error: any Error) -> String {
        if let error = error as? PostgresTransactionError, let cause = error.closureError ?? error.beginError ?? error.commitError {
            return explain(cause)
        }
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            if let underlying = error.underlying {
                if "\(underlying)".contains("CERTIFICATE_VERIFY_FAILED") {
                    return "the server's TLS certificate could not be verified: set sslrootcert=PATH to the authority that signed it"
                        + " (or sslmode=require to encrypt without verifying)"
                }
                return "the server cannot be reached (\(underlying))"
            }
            return "\(error.code)"
        }
        return "\(error)"
    }

    // MARK: Runs

    public func createRun(_ new: NewRun) async throws -> RunRecord {
        try await transaction { connection in try await self.insert(new, connection) }
    }

    public func createRuns(_ runs: [NewRun]) async throws -> [Result<RunRecord, TriggerClaimed>] {
        try await transaction { connection in
            var results: [Result<RunRecord, TriggerClaimed>] = []
            for new in runs {
                do { results.append(.success(try await self.insert(new, connection))) } catch let claimed as TriggerClaimed {
                    results.append(.failure(claimed))
                }
            }
            return results
        }
    }

    private func insert(_ new: NewRun, _ connection: PostgresConnection) async throws -> RunRecord {
        var earlier: String?
        if new.concurrency != .allow {
            // Serializes the starts of one pipeline's runs: two at the same moment see each other.
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(new.pipeline)))", logger: logger)
            earlier = try await first(
                String.self,
                connection.query(
                    """
                    SELECT id FROM runs WHERE pipeline = \(new.pipeline) AND status IN ('running', 'queued') ORDER BY createdat LIMIT 1
                    """, logger: logger))
        }
        if let earlier, new.concurrency == .reject { throw SluiceError.runRefused(pipeline: new.pipeline, blocking: earlier) }
        while true {
            let id = RunID.make()
            guard try await first(String.self, connection.query("SELECT id FROM runs WHERE id = \(id)", logger: logger)) == nil else { continue }
            if let claim = new.claim { try await PostgresTriggerSQL.apply(claim, connection, runID: id, logger: logger) }
            let record = RunRecord(new, id: id, behind: earlier)
            try await insertRow(record, connection)
            for (position, step) in new.steps.enumerated() {
                try await connection.query(
                    """
                    INSERT INTO step_runs (runid, step, position, state, attempts) VALUES (\(id), \(step), \(position), 'pending', 0)
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
            return record
        }
    }

    private func insertRow(_ run: RunRecord, _ connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO runs (id, pipeline, status, trigger, parameters, selection, rundirectory, ownerpid, ownerhost, leaseexpiresat,
            createdat, finishedat, stepstotal, triggerdetail) VALUES (\(run.id), \(run.pipeline), \(run.status.rawValue), \(run.trigger),
            \(try jsonText(run.parameters)), \(try jsonText(run.selection)), \(run.runDirectory), \(Int(run.ownerPID)), \(run.ownerHost),
            \(run.leaseExpiresAt?.timeIntervalSince1970), \(run.createdAt.timeIntervalSince1970), \(run.finishedAt?.timeIntervalSince1970),
            \(run.stepsTotal), \(try run.triggerDetail.map(jsonText))::jsonb)
            """, logger: logger)
    }

    public func startIfFirstInQueue(runID: String) async throws -> Bool {
        try await transaction { connection in
            guard
                let pipeline = try await self.first(
                    String.self, connection.query("SELECT pipeline FROM runs WHERE id = \(runID)", logger: self.logger))
            else {
                return false
            }
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(pipeline)))", logger: self.logger)
            let rows = try await connection.query(
                """
                UPDATE runs SET status = 'running' WHERE id = \(runID) AND status = 'queued' AND CASE
                WHEN triggerdetail->>'maxActive' IS NULL THEN NOT EXISTS (
                    SELECT 1 FROM runs AS earlier WHERE earlier.pipeline = runs.pipeline AND earlier.id <> runs.id
                    AND (earlier.status = 'running' OR (earlier.status = 'queued' AND earlier.createdat < runs.createdat)))
                ELSE (SELECT count(*) FROM runs AS other WHERE other.pipeline = runs.pipeline AND other.status = 'running'
                      AND other.triggerdetail->>'backfill' = runs.triggerdetail->>'backfill') < (triggerdetail->>'maxActive')::int
                END RETURNING id
                """, logger: self.logger)
            return try await self.first(String.self, rows) != nil
        }
    }

    public func write(_ events: [RunEvent]) throws {
        try blocking { try await self.writeEvents(events) }
    }

    public func writeEvents(_ events: [RunEvent]) async throws {
        try await transaction { connection in
            // One writer of events at a time, so that events become visible in the order of their numbers.
            try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresEventSQL.lockKey))", logger: self.logger)
            for event in events { try await PostgresEventSQL.apply(event, connection, logger: self.logger) }
            // Delivered at commit, to every process listening (servers on other hosts).
            try await connection.query(PostgresQuery(unsafeSQL: "NOTIFY \(PostgresEventSQL.channel)"), logger: self.logger)
        }
    }

    public func followEventNotifications(_ wake: @escaping @Sendable () -> Void) async {
        await follow(channel: PostgresEventSQL.channel, wake)
    }

    /// LISTEN on `channel`, on a connection of its own, until the task is cancelled; reconnects after a failure
    /// (notifications sent meanwhile are lost, which the listeners' polling covers).
    func follow(channel: String, _ wake: @escaping @Sendable () -> Void) async {
        while !Task.isCancelled {
            _ = try? await client.withConnection { connection in
                try await connection.listen(on: channel) { notifications in
                    wake()  // what was stored while not listening
                    for try await _ in notifications { wake() }
                }
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    @discardableResult
    public func renewLease(runID: String, until: Date) throws -> Bool {
        try blocking {
            // The owner's one write every renewal interval also reads whether it is asked to cancel.
            try await self.first(
                Bool.self,
                self.client.query(
                    """
                    UPDATE runs SET leaseexpiresat = \(until.timeIntervalSince1970) WHERE id = \(runID) AND status IN ('running', 'queued')
                    AND ownerpid = \(Int(getpid())) AND ownerhost = \(RunLease.host) RETURNING cancelrequestedat IS NOT NULL
                    """, logger: self.logger)) ?? false
        }
    }

    public func requestCancel(runID: String) async throws -> Bool {
        try await first(
            String.self,
            client.query(
                """
                UPDATE runs SET cancelrequestedat = \(Date().timeIntervalSince1970) WHERE id = \(runID) AND status = 'running' RETURNING id
                """, logger: logger)) != nil
    }

    public func markInterrupted(_ run: RunRecord) async throws -> Bool {
        try await transaction { connection in
            let now = Date().timeIntervalSince1970
            let changed = try await self.first(
                String.self,
                connection.query(
                    """
                    UPDATE runs SET status = 'interrupted', finishedat = \(now), leaseexpiresat = NULL
                    WHERE id = \(run.id) AND status IN ('running', 'queued') AND ownerpid = \(Int(run.ownerPID))
                    AND ownerhost IS NOT DISTINCT FROM \(run.ownerHost) RETURNING id
                    """, logger: self.logger))
            guard changed != nil else { return false }
            let why = "interrupted: the Sluice process running it (pid \(run.ownerPID)) ended"
            try await connection.query(
                """
                UPDATE attempts SET state = 'interrupted', finishedat = \(now), error = \(why) WHERE runid = \(run.id) AND state = 'running'
                """, logger: self.logger)
            try await connection.query(
                """
                UPDATE step_runs SET state = 'interrupted', finishedat = \(now), duration = \(now) - startedat, error = \(why)
                WHERE runid = \(run.id) AND state = 'running'
                """, logger: self.logger)
            try await PostgresEventSQL.insertEvent(
                connection, logger: self.logger, run: run.id, at: now, kind: "run_interrupted",
                state: RunStatus.interrupted.rawValue, message: why)
            return true
        }
    }

    public func claimForResume(runID: String, steps: [String]) async throws -> RunRecord? {
        try await transaction { connection in
            let now = Date()
            let changed = try await self.first(
                String.self,
                connection.query(
                    """
                    UPDATE runs SET status = 'running', finishedat = NULL, ownerpid = \(Int(getpid())), ownerhost = \(RunLease.host),
                    leaseexpiresat = \(RunLease.expiry(from: now).timeIntervalSince1970), cancelrequestedat = NULL
                    WHERE id = \(runID) AND status IN ('failed', 'interrupted', 'cancelled', 'partial_success') RETURNING id
                    """, logger: self.logger))
            guard changed != nil else { return nil }
            for step in steps {
                try await connection.query(
                    """
                    UPDATE step_runs SET state = 'pending', reason = NULL, error = NULL, exitcode = NULL, startedat = NULL, finishedat = NULL,
                    duration = NULL, recovered = FALSE WHERE runid = \(runID) AND step = \(step)
                    """, logger: self.logger)
            }
            try await PostgresEventSQL.insertEvent(
                connection, logger: self.logger, run: runID, at: now.timeIntervalSince1970,
                kind: "run_resumed", message: "\(steps.count) steps to run")
            return try await self.runs(connection.query("SELECT * FROM runs WHERE id = \(runID)", logger: self.logger)).first
        }
    }

    public func removeRuns(before: Date?, keep: Int?, dryRun: Bool) async throws -> [RunRecord] {
        guard before != nil || keep != nil else { return [] }
        var conditions: [String] = []
        var binds = PostgresBindings()
        if let before {
            binds.append(before.timeIntervalSince1970)
            conditions.append("createdat < $\(binds.count)")
        }
        if let keep {
            binds.append(keep)
            conditions.append(
                "(SELECT count(*) FROM runs AS newer WHERE newer.pipeline = runs.pipeline AND newer.createdat > runs.createdat) >= $\(binds.count)")
        }
        let select = "SELECT * FROM runs WHERE status NOT IN ('running', 'queued') AND (\(conditions.joined(separator: " OR "))) ORDER BY createdat"
        return try await transaction { connection in
            let doomed = try await self.runs(connection.query(PostgresQuery(unsafeSQL: select, binds: binds), logger: self.logger))
            guard !dryRun else { return doomed }
            for run in doomed { try await connection.query("DELETE FROM runs WHERE id = \(run.id)", logger: self.logger) }
            return doomed
        }
    }

    public func importContents(_ contents: StoreContents) async throws {
        try await transaction { connection in
            guard try await self.first(Int.self, connection.query("SELECT count(*)::bigint FROM runs", logger: self.logger)) == 0 else {
                throw SluiceError(.store, "it already has runs; copy into an empty store", file: Self.redacted(self.url))
            }
            for run in contents.runs { try await self.insertRow(run, connection) }
            for step in contents.stepRuns {
                try await connection.query(
                    """
                    INSERT INTO step_runs (runid, step, position, state, reason, attempts, exitcode, startedat, finishedat, duration, error,
                    peakmemorykb, cpuseconds, allowedfailure, recovered, outputvalues) VALUES (\(step.runID), \(step.step), \(step.position),
                    \(step.state.rawValue), \(step.reason), \(step.attempts), \(step.exitCode.map(Int.init)), \(step.startedAt?.timeIntervalSince1970),
                    \(step.finishedAt?.timeIntervalSince1970), \(step.duration), \(step.error), \(step.peakMemoryKB), \(step.cpuSeconds),
                    \(step.allowedFailure), \(step.recovered), \(try step.outputValues.map(jsonText)))
                    """, logger: self.logger)
            }
            for attempt in contents.attempts {
                try await connection.query(
                    """
                    INSERT INTO attempts (runid, step, attempt, state, pid, startedat, finishedat, exitcode, signal, error, peakmemorykb,
                    usercpu, systemcpu) VALUES (\(attempt.runID), \(attempt.step), \(attempt.attempt), \(attempt.state.rawValue),
                    \(Int(attempt.pid)), \(attempt.startedAt.timeIntervalSince1970), \(attempt.finishedAt?.timeIntervalSince1970),
                    \(attempt.exitCode.map(Int.init)), \(attempt.signal.map(Int.init)), \(attempt.error), \(attempt.peakMemoryKB), \(attempt.userCPU),
                    \(attempt.systemCPU))
                    """, logger: self.logger)
            }
            for event in contents.events {
                try await connection.query(
                    """
                    INSERT INTO events (seq, runid, at, kind, step, attempt, state, message) VALUES (\(event.seq), \(event.runID),
                    \(event.at.timeIntervalSince1970), \(event.kind), \(event.step), \(event.attempt), \(event.state), \(event.message))
                    """, logger: self.logger)
            }
            // New events are numbered after the copied ones.
            try await connection.query(
                "SELECT setval(pg_get_serial_sequence('events', 'seq'), GREATEST((SELECT max(seq) FROM events), 1))",
                logger: self.logger)
            for (runID, record) in contents.recoveryActions {
                let action = record.action
                try await connection.query(
                    """
                    INSERT INTO recovery_actions (runid, step, kind, target, status, message, at) VALUES (\(runID), \(record.step),
                    \(action.kind.rawValue), \(action.target), \(action.status.rawValue), \(action.message), \(action.at.timeIntervalSince1970))
                    """, logger: self.logger)
            }
            for status in contents.stepStatuses {
                try await connection.query(
                    """
                    INSERT INTO step_status (pipeline, step, completed, tested, lastrun, lastrunid, laststate, lastduration, error)
                    VALUES (\(status.pipeline), \(status.step), \(status.completed), \(status.tested), \(status.lastRun?.timeIntervalSince1970),
                    \(status.lastRunID), \(status.lastState?.rawValue), \(status.lastDuration), \(status.error))
                    ON CONFLICT (pipeline, step) DO UPDATE SET completed = excluded.completed, tested = excluded.tested, lastrun = excluded.lastrun,
                    lastrunid = excluded.lastrunid, laststate = excluded.laststate, lastduration = excluded.lastduration, error = excluded.error
                    """, logger: self.logger)
            }
            for record in contents.fingerprints {
                try await connection.query(
                    """
                    INSERT INTO step_fingerprints (pipeline, step, runid, recordedat, fingerprint, outputs, outputvalues) VALUES (\(record.pipeline),
                    \(record.step), \(record.runID), \(record.recordedAt.timeIntervalSince1970), \(try jsonText(record.fingerprint)),
                    \(try jsonText(record.outputs)), \(try record.outputValues.map(jsonText))) ON CONFLICT DO NOTHING
                    """, logger: self.logger)
            }
            for (path, hash) in contents.hashes {
                try await connection.query(
                    """
                    INSERT INTO file_hashes (path, size, modifiedns, inode, sha256) VALUES (\(path), \(hash.size), \(hash.modifiedNS),
                    \(Int64(bitPattern: hash.inode)), \(hash.sha256)) ON CONFLICT DO NOTHING
                    """, logger: self.logger)
            }
            for trigger in contents.triggers {
                try await connection.query(
                    """
                    INSERT INTO triggers (pipeline, name, since, firedfor, fingerprint, snapshot, lastrunid, lasterror) VALUES (\(trigger.pipeline),
                    \(trigger.name), \(trigger.since.timeIntervalSince1970), \(trigger.firedFor?.timeIntervalSince1970), \(trigger.snapshot?.fingerprint),
                    \(try trigger.snapshot.map { try jsonText($0.files) }), \(trigger.lastRunID), \(trigger.lastError)) ON CONFLICT DO NOTHING
                    """, logger: self.logger)
            }
            for (pipeline, at) in contents.paused {
                try await connection.query(
                    "INSERT INTO paused_pipelines VALUES (\(pipeline), \(at.timeIntervalSince1970)) ON CONFLICT DO NOTHING",
                    logger: self.logger)
            }
        }
    }

    // MARK: Reading

    public func schemaVersions() async throws -> (applied: [String], pending: [String]) {
        // Reading changes nothing: a database without the migrations table has none applied.
        let applied = try await client.withConnection { connection -> Set<Int> in
            let table = try await self.first(String?.self, connection.query("SELECT to_regclass('sluice_migrations')::text", logger: self.logger))
            guard table??.isEmpty == false else { return [] }
            return try await PostgresSchema.appliedVersions(connection, logger: self.logger)
        }
        let names = PostgresSchema.migrations.map { (version: $0.version, name: "v\($0.version) \($0.name)") }
        return (names.filter { applied.contains($0.version) }.map(\.name), names.filter { !applied.contains($0.version) }.map(\.name))
    }

    public func runs(_ filter: RunFilter, limit: Int, offset: Int) async throws -> [RunRecord] {
        var (condition, binds) = Self.condition(filter)
        binds.append(limit)
        binds.append(offset)
        let sql = "SELECT * FROM runs \(condition) ORDER BY createdat DESC LIMIT $\(binds.count - 1) OFFSET $\(binds.count)"
        return try await runs(client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger))
    }

    public func countRuns(_ filter: RunFilter) async throws -> Int {
        let (condition, binds) = Self.condition(filter)
        for try await count in try await client.query(
            PostgresQuery(unsafeSQL: "SELECT count(*) FROM runs \(condition)", binds: binds),
            logger: logger
        ).decode(Int.self) {
            return count
        }
        return 0
    }

    /// The `WHERE` clause of `filter` (empty when it lets everything through) and its bindings.
    private static func condition(_ filter: RunFilter) -> (String, PostgresBindings) {
        var binds = PostgresBindings()
        var conditions: [String] = []
        if let pipeline = filter.pipeline {
            binds.append(pipeline)
            conditions.append("pipeline = $\(binds.count)")
        }
        if let status = filter.status {
            binds.append(status.rawValue)
            conditions.append("status = $\(binds.count)")
        }
        if let trigger = filter.trigger, let pattern = filter.qualifiedTriggerPattern {
            binds.append(trigger)
            binds.append(pattern)
            conditions.append("(trigger = $\(binds.count - 1) OR trigger LIKE $\(binds.count) ESCAPE '\\')")
        }
        return (conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "), binds)
    }

    public func run(id: String) async throws -> RunRecord? {
        try await runs(client.query("SELECT * FROM runs WHERE id = \(id)", logger: logger)).first
    }

    public func stepRuns(runID: String) async throws -> [StepRunRecord] {
        try await stepRuns(client.query("SELECT * FROM step_runs WHERE runid = \(runID) ORDER BY position", logger: logger))
    }

    public func stepRun(runID: String, step: String) async throws -> StepRunRecord? {
        try await stepRuns(client.query("SELECT * FROM step_runs WHERE runid = \(runID) AND step = \(step)", logger: logger)).first
    }

    public func attempts(runID: String) async throws -> [AttemptRecord] {
        var attempts: [AttemptRecord] = []
        for try await row in try await client.query("SELECT * FROM attempts WHERE runid = \(runID) ORDER BY startedat, attempt", logger: logger) {
            let r = row.makeRandomAccess()
            attempts.append(
                AttemptRecord(
                    runID: try r["runid"].decode(String.self), step: try r["step"].decode(String.self), attempt: try r["attempt"].decode(Int.self),
                    state: try Self.state(r["state"].decode(String.self)), pid: Int32(try r["pid"].decode(Int.self)),
                    startedAt: Date(timeIntervalSince1970: try r["startedat"].decode(Double.self)), finishedAt: try date(r["finishedat"]),
                    exitCode: try r["exitcode"].decode(Int?.self).map(Int32.init), signal: try r["signal"].decode(Int?.self).map(Int32.init),
                    error: try r["error"].decode(String?.self), peakMemoryKB: try r["peakmemorykb"].decode(Int?.self),
                    userCPU: try r["usercpu"].decode(Double?.self), systemCPU: try r["systemcpu"].decode(Double?.self)))
        }
        return attempts
    }

    public func events(runID: String, after seq: Int64) async throws -> [StoredEvent] {
        try await events(client.query("SELECT * FROM events WHERE runid = \(runID) AND seq > \(seq) ORDER BY seq", logger: logger))
    }

    public func events(after seq: Int64, runID: String?, limit: Int) async throws -> [StoredEvent] {
        if let runID {
            return try await events(
                client.query(
                    """
                    SELECT * FROM events WHERE seq > \(seq) AND runid = \(runID) ORDER BY seq LIMIT \(limit)
                    """, logger: logger))
        }
        return try await events(client.query("SELECT * FROM events WHERE seq > \(seq) ORDER BY seq LIMIT \(limit)", logger: logger))
    }

    public func latestEventSeq() async throws -> Int64 {
        try await first(Int64?.self, client.query("SELECT MAX(seq) FROM events", logger: logger)).flatMap { $0 } ?? 0
    }

    public func stepStatuses(pipeline: String) async throws -> [StepStatusRecord] {
        var statuses: [StepStatusRecord] = []
        for try await row in try await client.query("SELECT * FROM step_status WHERE pipeline = \(pipeline)", logger: logger) {
            let r = row.makeRandomAccess()
            statuses.append(
                StepStatusRecord(
                    pipeline: try r["pipeline"].decode(String.self), step: try r["step"].decode(String.self),
                    completed: try r["completed"].decode(Bool.self), tested: try r["tested"].decode(Bool.self), lastRun: try date(r["lastrun"]),
                    lastRunID: try r["lastrunid"].decode(String?.self),
                    lastState: try r["laststate"].decode(String?.self).flatMap(StepState.init(rawValue:)),
                    lastDuration: try r["lastduration"].decode(Double?.self), error: try r["error"].decode(String?.self)))
        }
        return statuses
    }

    public func setTested(pipeline: String, step: String, tested: Bool) async throws {
        try await client.query(
            """
            INSERT INTO step_status (pipeline, step, tested) VALUES (\(pipeline), \(step), \(tested))
            ON CONFLICT (pipeline, step) DO UPDATE SET tested = excluded.tested
            """, logger: logger)
    }

    public func recoveryActions(runID: String) async throws -> [RecoveryActionRecord] {
        var actions: [RecoveryActionRecord] = []
        for try await row in try await client.query("SELECT * FROM recovery_actions WHERE runid = \(runID) ORDER BY at, id", logger: logger) {
            let r = row.makeRandomAccess()
            let kind = try r["kind"].decode(String.self), status = try r["status"].decode(String.self)
            guard let kind = RecoveryAction.Kind(rawValue: kind), let status = RecoveryAction.Status(rawValue: status) else {
                throw SluiceError(.store, "unknown recovery action '\(kind)' in the store")
            }
            actions.append(
                RecoveryActionRecord(
                    step: try r["step"].decode(String.self),
                    action: RecoveryAction(
                        kind: kind, target: try r["target"].decode(String.self), status: status, message: try r["message"].decode(String.self),
                        at: Date(timeIntervalSince1970: try r["at"].decode(Double.self)))))
        }
        return actions
    }

    public func totals() async throws -> StoreTotals {
        var totals = StoreTotals()
        for try await (status, count) in try await client.query("SELECT status, count(*) FROM runs GROUP BY status", logger: logger)
            .decode((String, Int).self)
        { totals.runsByStatus[status] = count }
        for try await (state, count) in try await client.query("SELECT state, count(*) FROM step_runs GROUP BY state", logger: logger)
            .decode((String, Int).self)
        { totals.stepsByState[state] = count }
        totals.queuedSteps =
            try await first(
                Int.self,
                client.query(
                    """
                    SELECT count(*) FROM step_runs JOIN runs ON runs.id = step_runs.runid WHERE runs.status = 'running' AND step_runs.state = 'pending'
                    """, logger: logger)) ?? 0
        return totals
    }

    public func outputState(pipeline: String) async throws -> (fingerprints: [String: StepFingerprintRecord], hashes: [String: FileHash]) {
        let decoder = JSONDecoder()
        var fingerprints: [String: StepFingerprintRecord] = [:]
        for try await row in try await client.query("SELECT * FROM step_fingerprints WHERE pipeline = \(pipeline)", logger: logger) {
            let r = row.makeRandomAccess()
            let step = try r["step"].decode(String.self)
            fingerprints[step] = StepFingerprintRecord(
                pipeline: pipeline, step: step, runID: try r["runid"].decode(String.self),
                recordedAt: Date(timeIntervalSince1970: try r["recordedat"].decode(Double.self)),
                fingerprint: try decoder.decode(StepFingerprint.self, from: Data(try r["fingerprint"].decode(String.self).utf8)),
                outputs: try decoder.decode([String: String].self, from: Data(try r["outputs"].decode(String.self).utf8)),
                outputValues: try Self.values(r["outputvalues"]))
        }
        var hashes: [String: FileHash] = [:]
        for try await (path, size, modified, inode, sha256) in try await client.query(
            "SELECT path, size, modifiedns, inode, sha256 FROM file_hashes", logger: logger
        ).decode((String, Int64, Int64, Int64, String).self) {
            hashes[path] = FileHash(size: size, modifiedNS: modified, inode: UInt64(bitPattern: inode), sha256: sha256)
        }
        return (fingerprints, hashes)
    }

    // MARK: Triggers

    public func triggerStates(pipeline: String?) async throws -> [TriggerState] {
        let rows =
            if let pipeline {
                try await client.query("SELECT * FROM triggers WHERE pipeline = \(pipeline) ORDER BY pipeline, name", logger: logger)
            } else {
                try await client.query("SELECT * FROM triggers ORDER BY pipeline, name", logger: logger)
            }
        return try await PostgresTriggerSQL.states(rows)
    }

    public func registerTrigger(pipeline: String, name: String, since: Date, snapshot: WatchSnapshot?) async throws -> TriggerState {
        try await client.query(
            """
            INSERT INTO triggers (pipeline, name, since, fingerprint, snapshot) VALUES (\(pipeline), \(name), \(since.timeIntervalSince1970),
            \(snapshot?.fingerprint), \(try snapshot.map { try PostgresTriggerSQL.encode($0.files) })) ON CONFLICT (pipeline, name) DO NOTHING
            """, logger: logger)
        let rows = try await client.query("SELECT * FROM triggers WHERE pipeline = \(pipeline) AND name = \(name)", logger: logger)
        guard let state = try await PostgresTriggerSQL.states(rows).first else {
            throw SluiceError(.store, "trigger \(pipeline)/\(name) was not recorded")
        }
        return state
    }

    public func advanceTrigger(_ claim: TriggerClaim) async throws -> Bool {
        do {
            try await transaction { connection in
                try await PostgresTriggerSQL.apply(claim, connection, runID: nil, logger: self.logger)
            }
            return true
        } catch is TriggerClaimed {
            return false
        }
    }

    public func recordTriggerError(pipeline: String, name: String, message: String?) async throws {
        try await client.query("UPDATE triggers SET lasterror = \(message) WHERE pipeline = \(pipeline) AND name = \(name)", logger: logger)
    }

    public func pausedPipelines() async throws -> [String: Date] {
        var paused: [String: Date] = [:]
        for try await (pipeline, at) in try await client.query("SELECT pipeline, pausedat FROM paused_pipelines", logger: logger)
            .decode((String, Double).self)
        { paused[pipeline] = Date(timeIntervalSince1970: at) }
        return paused
    }

    public func setPaused(pipeline: String, paused: Bool) async throws {
        if paused {
            try await client.query(
                """
                INSERT INTO paused_pipelines VALUES (\(pipeline), \(Date().timeIntervalSince1970)) ON CONFLICT DO NOTHING
                """, logger: logger)
        } else {
            try await client.query("DELETE FROM paused_pipelines WHERE pipeline = \(pipeline)", logger: logger)
        }
    }

    // MARK: Decoding

    private func runs(_ rows: PostgresRowSequence) async throws -> [RunRecord] {
        let decoder = JSONDecoder()
        var runs: [RunRecord] = []
        for try await row in rows {
            let r = row.makeRandomAccess()
            let detail = try r["triggerdetail"].decode(String?.self)
            runs.append(
                RunRecord(
                    id: try r["id"].decode(String.self), pipeline: try r["pipeline"].decode(String.self),
                    status: try Self.status(r["status"].decode(String.self)), trigger: try r["trigger"].decode(String.self),
                    parameters: try decoder.decode([String: String].self, from: Data(try r["parameters"].decode(String.self).utf8)),
                    selection: try decoder.decode(Selection.self, from: Data(try r["selection"].decode(String.self).utf8)),
                    runDirectory: try r["rundirectory"].decode(String.self), ownerPID: Int32(try r["ownerpid"].decode(Int.self)),
                    ownerHost: try r["ownerhost"].decode(String?.self), leaseExpiresAt: try date(r["leaseexpiresat"]),
                    createdAt: Date(timeIntervalSince1970: try r["createdat"].decode(Double.self)), finishedAt: try date(r["finishedat"]),
                    stepsTotal: try r["stepstotal"].decode(Int.self),
                    triggerDetail: try detail.map { try decoder.decode(TriggerDetail.self, from: Data($0.utf8)) }))
        }
        return runs
    }

    private func stepRuns(_ rows: PostgresRowSequence) async throws -> [StepRunRecord] {
        var steps: [StepRunRecord] = []
        for try await row in rows {
            let r = row.makeRandomAccess()
            steps.append(
                StepRunRecord(
                    runID: try r["runid"].decode(String.self), step: try r["step"].decode(String.self), position: try r["position"].decode(Int.self),
                    state: try Self.state(r["state"].decode(String.self)), reason: try r["reason"].decode(String?.self),
                    attempts: try r["attempts"].decode(Int.self), exitCode: try r["exitcode"].decode(Int?.self).map(Int32.init),
                    startedAt: try date(r["startedat"]), finishedAt: try date(r["finishedat"]), duration: try r["duration"].decode(Double?.self),
                    error: try r["error"].decode(String?.self), peakMemoryKB: try r["peakmemorykb"].decode(Int?.self),
                    cpuSeconds: try r["cpuseconds"].decode(Double?.self), allowedFailure: try r["allowedfailure"].decode(Bool.self),
                    recovered: try r["recovered"].decode(Bool.self), outputValues: try Self.values(r["outputvalues"])))
        }
        return steps
    }

    private func events(_ rows: PostgresRowSequence) async throws -> [StoredEvent] {
        var events: [StoredEvent] = []
        for try await row in rows {
            let r = row.makeRandomAccess()
            events.append(
                StoredEvent(
                    seq: try r["seq"].decode(Int64.self), runID: try r["runid"].decode(String.self),
                    at: Date(timeIntervalSince1970: try r["at"].decode(Double.self)), kind: try r["kind"].decode(String.self),
                    step: try r["step"].decode(String?.self), attempt: try r["attempt"].decode(Int?.self), state: try r["state"].decode(String?.self),
                    message: try r["message"].decode(String?.self)))
        }
        return events
    }

    /// A JSON object of values (`outputvalues`), or nil.
    private static func values(_ cell: PostgresCell) throws -> [String: String]? {
        try OutputValues.decode(cell.decode(String?.self))
    }

    private func date(_ cell: PostgresCell) throws -> Date? {
        try cell.decode(Double?.self).map(Date.init(timeIntervalSince1970:))
    }

    func first<T: PostgresDecodable>(_ type: T.Type, _ rows: PostgresRowSequence) async throws -> T? {
        for try await value in rows.decode(T.self) { return value }
        return nil
    }

    private static func status(_ text: String) throws -> RunStatus {
        guard let status = RunStatus(rawValue: text) else { throw SluiceError(.store, "unknown run status '\(text)' in the store") }
        return status
    }

    private static func state(_ text: String) throws -> StepState {
        guard let state = StepState(rawValue: text) else { throw SluiceError(.store, "unknown step state '\(text)' in the store") }
        return state
    }

    /// Runs `body` in a transaction; an error `body` throws comes out as itself (a lost claim, a refused run), not
    /// wrapped in the driver's transaction error.
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> sending T) async throws -> T {
        do {
            return try await client.withTransaction(logger: logger, body)
        } catch let error as PostgresTransactionError {
            if let cause = error.closureError { throw cause }
            throw error
        }
    }

    /// Runs `body` and waits for it: for the protocol's blocking calls, made from threads of their own (never from
    /// the cooperative pool, where `body` runs, nor from the shared dispatch queues, whose threads on Linux come and go
    /// with the cooperative pool's work: a blocked one is replaced only about once a second).
    private func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<Result<T, any Error>?>(nil)
        Task {
            let outcome: Result<T, any Error>
            do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
            result.withLock { $0 = outcome }
            done.signal()
        }
        done.wait()
        return try result.withLock { $0! }.get()
    }
}

func jsonText(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

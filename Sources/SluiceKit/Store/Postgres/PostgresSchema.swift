import Foundation
import Logging
import PostgresNIO

/// The PostgreSQL store's tables, the same facts as ``StoreSchema`` (SQLite), created and upgraded by versioned
/// migrations recorded in `sluice_migrations`. Names are lower case: PostgreSQL folds unquoted names.
enum PostgresSchema {
    struct Migration {
        var version: Int
        var name: String
        var sql: [String]
    }

    static let migrations = [
        Migration(
            version: 1, name: "runs, steps, attempts, events, status, recovery, fingerprints, hashes, triggers",
            sql: [
                """
                CREATE TABLE runs (
                    id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, status TEXT NOT NULL, trigger TEXT NOT NULL, parameters TEXT NOT NULL,
                    selection TEXT NOT NULL, rundirectory TEXT NOT NULL, ownerpid INTEGER NOT NULL, ownerhost TEXT,
                    leaseexpiresat DOUBLE PRECISION, createdat DOUBLE PRECISION NOT NULL, finishedat DOUBLE PRECISION,
                    stepstotal INTEGER NOT NULL, triggerdetail JSONB)
                """,
                "CREATE INDEX runs_by_pipeline ON runs (pipeline, createdat)",
                "CREATE INDEX runs_by_time ON runs (createdat)",
                "CREATE INDEX runs_by_status ON runs (status)",
                """
                CREATE TABLE step_runs (
                    runid TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE, step TEXT NOT NULL, position INTEGER NOT NULL,
                    state TEXT NOT NULL, reason TEXT, attempts INTEGER NOT NULL, exitcode INTEGER, startedat DOUBLE PRECISION,
                    finishedat DOUBLE PRECISION, duration DOUBLE PRECISION, error TEXT, peakmemorykb BIGINT, cpuseconds DOUBLE PRECISION,
                    allowedfailure BOOLEAN NOT NULL DEFAULT FALSE, recovered BOOLEAN NOT NULL DEFAULT FALSE, PRIMARY KEY (runid, step))
                """,
                """
                CREATE TABLE attempts (
                    runid TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE, step TEXT NOT NULL, attempt INTEGER NOT NULL,
                    state TEXT NOT NULL, pid INTEGER NOT NULL, startedat DOUBLE PRECISION NOT NULL, finishedat DOUBLE PRECISION,
                    exitcode INTEGER, signal INTEGER, error TEXT, peakmemorykb BIGINT, usercpu DOUBLE PRECISION, systemcpu DOUBLE PRECISION,
                    PRIMARY KEY (runid, step, attempt))
                """,
                """
                CREATE TABLE events (
                    seq BIGSERIAL PRIMARY KEY, runid TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE, at DOUBLE PRECISION NOT NULL,
                    kind TEXT NOT NULL, step TEXT, attempt INTEGER, state TEXT, message TEXT)
                """,
                "CREATE INDEX events_by_run ON events (runid, seq)",
                """
                CREATE TABLE step_status (
                    pipeline TEXT NOT NULL, step TEXT NOT NULL, completed BOOLEAN NOT NULL DEFAULT FALSE, tested BOOLEAN NOT NULL DEFAULT FALSE,
                    lastrun DOUBLE PRECISION, lastrunid TEXT, laststate TEXT, lastduration DOUBLE PRECISION, error TEXT,
                    PRIMARY KEY (pipeline, step))
                """,
                """
                CREATE TABLE recovery_actions (
                    id BIGSERIAL PRIMARY KEY, runid TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE, step TEXT NOT NULL,
                    kind TEXT NOT NULL, target TEXT NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL, at DOUBLE PRECISION NOT NULL)
                """,
                "CREATE INDEX recovery_actions_by_run ON recovery_actions (runid)",
                """
                CREATE TABLE step_fingerprints (
                    pipeline TEXT NOT NULL, step TEXT NOT NULL, runid TEXT NOT NULL, recordedat DOUBLE PRECISION NOT NULL,
                    fingerprint TEXT NOT NULL, outputs TEXT NOT NULL, PRIMARY KEY (pipeline, step))
                """,
                """
                CREATE TABLE file_hashes (
                    path TEXT PRIMARY KEY, size BIGINT NOT NULL, modifiedns BIGINT NOT NULL, inode BIGINT NOT NULL, sha256 TEXT NOT NULL)
                """,
                """
                CREATE TABLE triggers (
                    pipeline TEXT NOT NULL, name TEXT NOT NULL, since DOUBLE PRECISION NOT NULL, firedfor DOUBLE PRECISION,
                    fingerprint TEXT, snapshot TEXT, lastrunid TEXT, lasterror TEXT, PRIMARY KEY (pipeline, name))
                """,
                "CREATE TABLE paused_pipelines (pipeline TEXT PRIMARY KEY, pausedat DOUBLE PRECISION NOT NULL)",
            ]),
        Migration(
            version: 2, name: "work_items: attempts queued for sluice worker",
            sql: [
                // Lease times are the database's own clock (now()), the one clock every host shares.
                """
                CREATE TABLE work_items (
                    id BIGSERIAL PRIMARY KEY, runid TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE, step TEXT NOT NULL,
                    attempt INTEGER NOT NULL, orderjson TEXT, labels TEXT[] NOT NULL, state TEXT NOT NULL, worker TEXT, pid INTEGER,
                    leaseexpiresat TIMESTAMPTZ, result TEXT, createdat TIMESTAMPTZ NOT NULL DEFAULT now(), finishedat TIMESTAMPTZ)
                """,
                "CREATE INDEX work_items_ready ON work_items (id) WHERE state = 'ready'",
                "CREATE INDEX work_items_held ON work_items (worker) WHERE state IN ('claimed', 'cancelling')",
            ]),
        Migration(
            version: 3, name: "runs.cancelrequestedat: cancelling a run from another host",
            sql: [
                "ALTER TABLE runs ADD COLUMN cancelrequestedat DOUBLE PRECISION"
            ]),
        Migration(
            version: 4, name: "outputvalues: values steps pass on, with the step in its run and with its fingerprint",
            sql: [
                "ALTER TABLE step_runs ADD COLUMN outputvalues TEXT",
                "ALTER TABLE step_fingerprints ADD COLUMN outputvalues TEXT",
            ]),
        Migration(
            version: 5, name: "step_cache: every successful fingerprint with its outputs, for restoring them",
            sql: [
                """
                CREATE TABLE step_cache (
                    pipeline TEXT NOT NULL, step TEXT NOT NULL, digest TEXT NOT NULL, runid TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                    recordedat DOUBLE PRECISION NOT NULL, fingerprint TEXT NOT NULL, outputs TEXT NOT NULL, outputvalues TEXT,
                    PRIMARY KEY (pipeline, step, digest))
                """,
                "CREATE INDEX step_cache_by_run ON step_cache (runid)",
            ]),
        Migration(
            version: 6, name: "pool_slots: the slots of pools steps hold, across every run sharing the store",
            sql: [
                """
                CREATE TABLE pool_slots (
                    pool TEXT NOT NULL, runid TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE, step TEXT NOT NULL,
                    takenat DOUBLE PRECISION NOT NULL, PRIMARY KEY (runid, step))
                """,
                "CREATE INDEX pool_slots_by_pool ON pool_slots (pool)",
            ]),
        Migration(
            version: 7, name: "work_items.cpus, work_items.memory: what a queued step asks of a worker's capacity",
            sql: ["ALTER TABLE work_items ADD COLUMN cpus INTEGER NOT NULL DEFAULT 1, ADD COLUMN memory BIGINT NOT NULL DEFAULT 0"]),
        Migration(
            version: 8, name: "events say how an attempt or step ended; steps read a page at a time, in order or by state",
            sql: [
                "ALTER TABLE events ADD COLUMN exitcode INTEGER, ADD COLUMN duration DOUBLE PRECISION, ADD COLUMN peakmemorykb BIGINT",
                "CREATE INDEX step_runs_by_position ON step_runs (runid, position)",
                "CREATE INDEX step_runs_by_state ON step_runs (runid, state, position)",
            ]),
        Migration(
            version: 9, name: "sluice_record_step_events: a batch's attempt and step events in one statement",
            sql: [
                """
                CREATE OR REPLACE FUNCTION sluice_record_step_events(batch JSONB) RETURNS VOID LANGUAGE plpgsql AS $$
                DECLARE
                    e JSONB;
                    took DOUBLE PRECISION;
                BEGIN
                    -- In the batch's order, each event as its own statements would apply it (PostgresEventSQL.apply).
                    FOR e IN SELECT value FROM jsonb_array_elements(batch) LOOP
                        CASE e->>'kind'
                        WHEN 'attempt_started' THEN
                            INSERT INTO attempts (runid, step, attempt, state, pid, startedat)
                            VALUES (e->>'run', e->>'step', (e->>'attempt')::INTEGER, 'running', (e->>'pid')::INTEGER, (e->>'at')::DOUBLE PRECISION)
                            ON CONFLICT (runid, step, attempt) DO UPDATE SET state = 'running', pid = excluded.pid, startedat = excluded.startedat,
                            finishedat = NULL, exitcode = NULL, signal = NULL, error = NULL, peakmemorykb = NULL, usercpu = NULL, systemcpu = NULL;
                            UPDATE step_runs SET state = 'running', attempts = (e->>'attempt')::INTEGER,
                            startedat = COALESCE(startedat, (e->>'at')::DOUBLE PRECISION) WHERE runid = e->>'run' AND step = e->>'step';
                            INSERT INTO events (runid, at, kind, step, attempt, state, message)
                            VALUES (e->>'run', (e->>'at')::DOUBLE PRECISION, 'attempt_started', e->>'step', (e->>'attempt')::INTEGER, 'running',
                            'pid ' || (e->>'pid'));
                        WHEN 'attempt_finished' THEN
                            UPDATE attempts SET state = e->>'state', finishedat = (e->>'finished')::DOUBLE PRECISION,
                            exitcode = (e->>'exitCode')::INTEGER, signal = (e->>'signal')::INTEGER, error = e->>'error',
                            peakmemorykb = (e->>'peakMemoryKB')::BIGINT, usercpu = (e->>'userCPU')::DOUBLE PRECISION,
                            systemcpu = (e->>'systemCPU')::DOUBLE PRECISION
                            WHERE runid = e->>'run' AND step = e->>'step' AND attempt = (e->>'attempt')::INTEGER;
                            INSERT INTO events (runid, at, kind, step, attempt, state, message, exitcode, duration, peakmemorykb)
                            VALUES (e->>'run', (e->>'at')::DOUBLE PRECISION, 'attempt_finished', e->>'step', (e->>'attempt')::INTEGER,
                            e->>'state', e->>'error', (e->>'exitCode')::INTEGER, (e->>'duration')::DOUBLE PRECISION, (e->>'peakMemoryKB')::BIGINT);
                        WHEN 'step_finished' THEN
                            took := NULL;
                            UPDATE step_runs SET state = e->>'state', attempts = (e->>'attempt')::INTEGER, exitcode = (e->>'exitCode')::INTEGER,
                            finishedat = (e->>'finished')::DOUBLE PRECISION,
                            duration = (e->>'finished')::DOUBLE PRECISION - COALESCE(startedat, (e->>'started')::DOUBLE PRECISION),
                            error = e->>'error', peakmemorykb = (e->>'peakMemoryKB')::BIGINT, cpuseconds = (e->>'cpuSeconds')::DOUBLE PRECISION,
                            allowedfailure = (e->>'allowed')::BOOLEAN WHERE runid = e->>'run' AND step = e->>'step' RETURNING duration INTO took;
                            INSERT INTO events (runid, at, kind, step, attempt, state, message, exitcode, duration, peakmemorykb)
                            VALUES (e->>'run', (e->>'at')::DOUBLE PRECISION, 'step_finished', e->>'step', (e->>'attempt')::INTEGER,
                            e->>'state', e->>'error', (e->>'exitCode')::INTEGER, took, (e->>'peakMemoryKB')::BIGINT);
                        END CASE;
                    END LOOP;
                END
                $$
                """
            ]),
    ]

    /// Applies the migrations the database lacks, each in its own transaction, under a lock: several processes may
    /// open a new store at the same moment. Returns the versions applied.
    @discardableResult
    static func migrate(_ client: PostgresClient, logger: Logger) async throws -> [Int] {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(lockKey))", logger: logger)
            do {
                try await connection.query(
                    """
                    CREATE TABLE IF NOT EXISTS sluice_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, appliedat DOUBLE PRECISION NOT NULL)
                    """, logger: logger)
                let applied = try await appliedVersions(connection, logger: logger)
                if let newest = applied.max(), newest > migrations.map(\.version).max() ?? 0 { throw SluiceError.newerStore }
                var done: [Int] = []
                for migration in migrations where !applied.contains(migration.version) {
                    try await connection.withTransaction(logger: logger) { transaction in
                        for statement in migration.sql { try await transaction.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                        try await transaction.query(
                            """
                            INSERT INTO sluice_migrations VALUES (\(migration.version), \(migration.name), \(Date().timeIntervalSince1970))
                            """, logger: logger)
                    }
                    done.append(migration.version)
                }
                try await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
                return done
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
                throw error
            }
        }
    }

    static func appliedVersions(_ connection: PostgresConnection, logger: Logger) async throws -> Set<Int> {
        var versions = Set<Int>()
        for try await version in try await connection.query("SELECT version FROM sluice_migrations", logger: logger).decode(Int.self) {
            versions.insert(version)
        }
        return versions
    }

    /// The advisory lock migrations hold (an arbitrary number, Sluice's own).
    static let lockKey: Int64 = 0x51_1CE
}

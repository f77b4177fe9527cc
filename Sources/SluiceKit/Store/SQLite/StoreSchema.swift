import GRDB

/// The store's tables, created and upgraded by versioned migrations when a store is opened.
enum StoreSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        // Rows of step runs and attempts are appended in the order steps start, so the updates of a batch of
        // steps touch a few adjacent pages rather than pages scattered by step name.
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE runs (
                        id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, status TEXT NOT NULL, trigger TEXT NOT NULL,
                        parameters TEXT NOT NULL, selection TEXT NOT NULL, runDirectory TEXT NOT NULL, ownerPID INTEGER NOT NULL,
                        createdAt REAL NOT NULL, finishedAt REAL, stepsTotal INTEGER NOT NULL);
                    CREATE INDEX runsByPipeline ON runs(pipeline, createdAt);
                    CREATE INDEX runsByTime ON runs(createdAt);
                    CREATE TABLE stepRuns (
                        runID TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, step TEXT NOT NULL, position INTEGER NOT NULL,
                        state TEXT NOT NULL, reason TEXT, attempts INTEGER NOT NULL, exitCode INTEGER, startedAt REAL, finishedAt REAL,
                        duration REAL, error TEXT, peakMemoryKB INTEGER, cpuSeconds REAL, allowedFailure INTEGER NOT NULL);
                    CREATE UNIQUE INDEX stepRunsByStep ON stepRuns(runID, step);
                    CREATE TABLE attempts (
                        runID TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, step TEXT NOT NULL, attempt INTEGER NOT NULL,
                        state TEXT NOT NULL, pid INTEGER NOT NULL, startedAt REAL NOT NULL, finishedAt REAL, exitCode INTEGER,
                        signal INTEGER, error TEXT, peakMemoryKB INTEGER, userCPU REAL, systemCPU REAL);
                    CREATE UNIQUE INDEX attemptsByStep ON attempts(runID, step, attempt);
                    CREATE TABLE events (
                        seq INTEGER PRIMARY KEY, runID TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                        at REAL NOT NULL, kind TEXT NOT NULL, step TEXT, attempt INTEGER, state TEXT, message TEXT);
                    CREATE INDEX eventsByRun ON events(runID, seq);
                    CREATE TABLE stepStatus (
                        pipeline TEXT NOT NULL, step TEXT NOT NULL, completed INTEGER NOT NULL DEFAULT 0,
                        tested INTEGER NOT NULL DEFAULT 0, lastRun REAL, lastRunID TEXT, lastState TEXT, lastDuration REAL, error TEXT,
                        PRIMARY KEY (pipeline, step)) WITHOUT ROWID;
                    """)
        }
        // Recovery: fingerprints of successful steps, remembered file hashes, recovery actions.
        migrator.registerMigration("v2") { db in
            try db.execute(
                sql: """
                    ALTER TABLE stepRuns ADD COLUMN recovered INTEGER NOT NULL DEFAULT 0;
                    CREATE TABLE recoveryActions (
                        runID TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, step TEXT NOT NULL, kind TEXT NOT NULL,
                        target TEXT NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL, at REAL NOT NULL);
                    CREATE INDEX recoveryActionsByRun ON recoveryActions(runID);
                    CREATE TABLE stepFingerprints (
                        pipeline TEXT NOT NULL, step TEXT NOT NULL, runID TEXT NOT NULL, recordedAt REAL NOT NULL,
                        fingerprint TEXT NOT NULL, outputs TEXT NOT NULL, PRIMARY KEY (pipeline, step)) WITHOUT ROWID;
                    CREATE TABLE fileHashes (
                        path TEXT PRIMARY KEY, size INTEGER NOT NULL, modifiedNS INTEGER NOT NULL, inode INTEGER NOT NULL,
                        sha256 TEXT NOT NULL) WITHOUT ROWID;
                    """)
        }
        // Crash safety: each running run is owned by one process (pid and host), under a lease it renews.
        migrator.registerMigration("v3") { db in
            try db.execute(
                sql: """
                    ALTER TABLE runs ADD COLUMN ownerHost TEXT;
                    ALTER TABLE runs ADD COLUMN leaseExpiresAt REAL;
                    CREATE INDEX runsByStatus ON runs(status);
                    """)
        }
        // Triggers: what started a run by itself, and each schedule's and watch's shared state.
        migrator.registerMigration("v4") { db in
            try db.execute(
                sql: """
                    ALTER TABLE runs ADD COLUMN triggerDetail TEXT;
                    CREATE TABLE triggers (
                        pipeline TEXT NOT NULL, name TEXT NOT NULL, since REAL NOT NULL, firedFor REAL, fingerprint TEXT, snapshot TEXT,
                        lastRunID TEXT, lastError TEXT, PRIMARY KEY (pipeline, name)) WITHOUT ROWID;
                    CREATE TABLE pausedPipelines (pipeline TEXT PRIMARY KEY, pausedAt REAL NOT NULL) WITHOUT ROWID;
                    """)
        }
        // Cancelling a run from another host: the request waits in the store for the run's owner (``RunCancellation``).
        migrator.registerMigration("v5") { db in
            try db.execute(sql: "ALTER TABLE runs ADD COLUMN cancelRequestedAt REAL")
        }
        // Values steps pass on (`$SLUICE_OUTPUT`), as JSON objects: with the step in its run, and with its fingerprint
        // for the runs where it is up to date.
        migrator.registerMigration("v6") { db in
            try db.execute(
                sql: """
                    ALTER TABLE stepRuns ADD COLUMN outputValues TEXT;
                    ALTER TABLE stepFingerprints ADD COLUMN outputValues TEXT;
                    """)
        }
        // The names of the PostgreSQL store (``PostgresSchema``), so that both stores run the same statements
        // (``StoreSQL``): tables in snake_case, columns in lower case (SQLite compares names case-insensitively, so
        // statements see no change there). Indexes keep their names: nothing names them, and rebuilding them would
        // hold the store for seconds per million events. Foreign keys stay on throughout (`.immediate`), so that rows
        // left without their run by an earlier hand edit do not stop the migration.
        migrator.registerMigration("v7", foreignKeyChecks: .immediate) { db in
            for (old, new) in [
                ("stepRuns", "step_runs"), ("stepStatus", "step_status"), ("stepFingerprints", "step_fingerprints"), ("fileHashes", "file_hashes"),
                ("pausedPipelines", "paused_pipelines"),
            ] {
                try db.execute(sql: "ALTER TABLE \(old) RENAME TO \(new)")
            }
            // Recovery actions get the id PostgreSQL orders them by (SQLite's rowid was their order).
            try db.execute(
                sql: """
                    CREATE TABLE recovery_actions (
                        id INTEGER PRIMARY KEY, runid TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, step TEXT NOT NULL,
                        kind TEXT NOT NULL, target TEXT NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL, at REAL NOT NULL);
                    INSERT INTO recovery_actions SELECT rowid, runID, step, kind, target, status, message, at FROM recoveryActions
                    WHERE runID IN (SELECT id FROM runs) ORDER BY rowid;
                    DROP TABLE recoveryActions;
                    CREATE INDEX recovery_actions_by_run ON recovery_actions (runid);
                    """)
            for table in [
                "runs", "step_runs", "attempts", "events", "step_status", "recovery_actions", "step_fingerprints", "file_hashes", "triggers",
                "paused_pipelines",
            ] {
                for column in try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?)", arguments: [table])
                where column != column.lowercased() {
                    try db.execute(sql: "ALTER TABLE \(table) RENAME COLUMN \"\(column)\" TO \"\(column.lowercased())\"")
                }
            }
        }
        // The run cache: every successful attempt's fingerprint with its outputs, not only the last one, so that a
        // step whose inputs, parameters and script come back to an earlier state gets that state's outputs restored
        // (``OutputTracker``). Removing a run (`sluice gc`) removes its entries.
        migrator.registerMigration("v8") { db in
            try db.execute(
                sql: """
                    CREATE TABLE step_cache (
                        pipeline TEXT NOT NULL, step TEXT NOT NULL, digest TEXT NOT NULL,
                        runid TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, recordedat REAL NOT NULL, fingerprint TEXT NOT NULL,
                        outputs TEXT NOT NULL, outputvalues TEXT, PRIMARY KEY (pipeline, step, digest)) WITHOUT ROWID;
                    CREATE INDEX step_cache_by_run ON step_cache (runid);
                    """)
        }
        // Pools: the slots steps hold, counted across every run and process sharing the store (``StoreSQL/takePoolSlot``).
        migrator.registerMigration("v9") { db in
            try db.execute(
                sql: """
                    CREATE TABLE pool_slots (
                        pool TEXT NOT NULL, runid TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, step TEXT NOT NULL,
                        takenat REAL NOT NULL, PRIMARY KEY (runid, step)) WITHOUT ROWID;
                    CREATE INDEX pool_slots_by_pool ON pool_slots (pool);
                    """)
        }
        // Big runs: events say how an attempt or step ended, so live views need not ask for the step; steps are read
        // a page at a time, in order or by state, without reading the whole run.
        migrator.registerMigration("v10") { db in
            try db.execute(
                sql: """
                    ALTER TABLE events ADD COLUMN exitcode INTEGER;
                    ALTER TABLE events ADD COLUMN duration REAL;
                    ALTER TABLE events ADD COLUMN peakmemorykb INTEGER;
                    CREATE INDEX step_runs_by_position ON step_runs (runid, position);
                    CREATE INDEX step_runs_by_state ON step_runs (runid, state, position);
                    """)
        }
        return migrator
    }
}

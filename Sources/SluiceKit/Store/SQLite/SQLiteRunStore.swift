import Foundation
import GRDB
import GRDBSQLite

/// The embedded store: one SQLite file in WAL mode, shared safely by several Sluice processes.
public final class SQLiteRunStore: RunStore {
    public let path: String
    let pool: DatabasePool

    /// Opens (creating if needed) the store at `path` and applies pending migrations (unless `migrate` is false:
    /// `sluice db status` looks without changing anything). A store that another process holds locked is waited for
    /// up to `timeout` seconds.
    public init(path: String, timeout: Double = 30, migrate: Bool = true) throws {
        self.path = path
        // The statements both stores share need SQLite 3.39 (`IS NOT DISTINCT FROM`; `->>` and `RETURNING` came before).
        guard sqlite3_libversion_number() >= 3_039_000 else {
            throw SluiceError(
                .store, "this system's SQLite is \(String(cString: sqlite3_libversion())); Sluice needs 3.39 or newer (Debian 12 has 3.40)",
                file: path)
        }
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
            if try pool.read(StoreSchema.migrator.hasBeenSuperseded) { throw SluiceError.newerStore }
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

    /// Records `new` in the caller's transaction: write transactions are one at a time, so two starts at the same moment
    /// see each other.
    private static func insert(_ new: NewRun, _ db: Database) throws -> RunRecord {
        let earlier = new.concurrency == .allow ? nil : try db.value(StoreSQL.activeRun(pipeline: new.pipeline), as: String.self)
        if let earlier, new.concurrency == .reject { throw SluiceError.runRefused(pipeline: new.pipeline, blocking: earlier) }
        while true {
            let id = RunID.make()
            guard try db.value(StoreSQL.runExists(id), as: String.self) == nil else { continue }
            // A claim that fails changes nothing, so the rest of a batch goes on.
            if let claim = new.claim {
                let claim = try StoreSQL.claim(claim, runID: id)
                try claim.check(db.value(claim.statement, as: String.self))
            }
            let record = RunRecord(new, id: id, behind: earlier)
            try db.run(try StoreSQL.insertRun(record, .sqlite))
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
        try await apply(StoreSQL.startIfFirstInQueue(runID))
    }

    @discardableResult
    public func renewLease(runID: String, until: Date) throws -> Bool {
        try pool.write { db in try db.value(StoreSQL.renewLease(runID, until: until), as: Bool.self) ?? false }
    }

    public func takePoolSlot(_ pool: String, size: Int, runID: String, step: String) throws -> Bool {
        try applies(StoreSQL.takePoolSlot(pool, size: size, runID: runID, step: step, at: Date()))
    }

    public func releasePoolSlot(runID: String, step: String?) throws {
        _ = try applies(StoreSQL.releasePoolSlot(runID: runID, step: step))
    }

    /// Runs one statement in a write transaction of its own; says whether it returned a row.
    private func applies(_ statement: SQLStatement) throws -> Bool {
        try pool.write { db in try db.value(statement, as: String.self) != nil }
    }

    public func advanceTrigger(_ claim: TriggerClaim) async throws -> Bool {
        let claim = try StoreSQL.claim(claim, runID: nil)
        do {
            try await pool.write { db in try claim.check(db.value(claim.statement, as: String.self)) }
            return true
        } catch is TriggerClaimed {
            return false
        }
    }

    public func schemaVersions() async throws -> (applied: [String], pending: [String]) {
        try await pool.read { db in
            let applied = try StoreSchema.migrator.appliedIdentifiers(db)
            return (StoreSchema.migrator.migrations.filter(applied.contains), StoreSchema.migrator.migrations.filter { !applied.contains($0) })
        }
    }
}

// The statements both stores share, run on SQLite.
extension SQLiteRunStore: SQLBackend {
    var dialect: SQLDialect { .sqlite }
    var location: String { path }

    func read<T: StoreRecord>(_ statement: SQLStatement, as type: T.Type) async throws -> [T] {
        try await pool.read { db in try db.rows(statement, as: T.self) }
    }

    func readValue<T: StoreValue>(_ statement: SQLStatement, as type: T.Type) async throws -> T? {
        try await pool.read { db in try db.value(statement, as: T.self) }
    }

    func write<T: StoreRecord>(_ write: GuardedWrite, returning type: T.Type) async throws -> [T] {
        try await pool.write { db in
            let rows = try db.rows(write.condition, as: T.self)
            if !rows.isEmpty { for statement in write.then { try db.run(statement) } }
            return rows
        }
    }

}

import Foundation
import GRDB
import Synchronization

/// The embedded store: one SQLite file in WAL mode, shared safely by several Sluice processes.
public final class SQLiteRunStore: RunStore {
    public let path: String
    let pool: DatabasePool
    private let writer: EventWriter

    /// Opens (creating if needed) the store at `path` and applies pending migrations.
    public init(path: String) throws {
        self.path = path
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            var configuration = GRDB.Configuration()
            configuration.busyMode = .timeout(30)
            configuration.prepareDatabase { db in
                // NORMAL (GRDB's WAL default) may lose the last commits on power loss; every state change must survive it.
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            pool = try DatabasePool(path: path, configuration: configuration)
            try StoreSchema.migrator.migrate(pool)
        } catch {
            throw StoreError(path: path, message: "cannot open: \(error)")
        }
        writer = EventWriter(pool: pool)
    }

    public func createRun(pipeline: String, trigger: String, parameters: [String: String], selection: Selection,
                          runsDirectory: String, stepsTotal: Int) async throws -> RunRecord {
        try await pool.write { db in
            while true {
                let id = RunID.make()
                guard try RunRecord.fetchOne(db, key: id) == nil else { continue }
                let record = RunRecord(id: id, pipeline: pipeline, status: .running, trigger: trigger, parameters: parameters,
                                       selection: selection, runDirectory: (runsDirectory as NSString).appendingPathComponent(id),
                                       ownerPID: getpid(), createdAt: Date(), finishedAt: nil, stepsTotal: stepsTotal)
                try record.insert(db)
                return record
            }
        }
    }

    public func record(_ event: RunEvent) { writer.append(event) }

    public func flush() async throws { try await writer.flush() }

    public func runs(pipeline: String?, limit: Int, offset: Int) async throws -> [RunRecord] {
        try await pool.read { db in
            var request = RunRecord.order(Column("createdAt").desc)
            if let pipeline { request = request.filter(Column("pipeline") == pipeline) }
            return try request.limit(limit, offset: offset).fetchAll(db)
        }
    }

    public func run(id: String) async throws -> RunRecord? {
        try await pool.read { db in try RunRecord.fetchOne(db, key: id) }
    }

    public func stepRuns(runID: String) async throws -> [StepRunRecord] {
        try await pool.read { db in
            try StepRunRecord.filter(Column("runID") == runID).order(Column("position")).fetchAll(db)
        }
    }

    public func attempts(runID: String) async throws -> [AttemptRecord] {
        try await pool.read { db in
            try AttemptRecord.filter(Column("runID") == runID).order(Column("startedAt"), Column("attempt")).fetchAll(db)
        }
    }

    public func events(runID: String, after seq: Int64) async throws -> [StoredEvent] {
        try await pool.read { db in
            try StoredEvent.filter(Column("runID") == runID && Column("seq") > seq).order(Column("seq")).fetchAll(db)
        }
    }

    public func stepStatuses(pipeline: String) async throws -> [StepStatusRecord] {
        try await pool.read { db in
            try StepStatusRecord.fetchAll(db, sql: "SELECT * FROM stepStatus WHERE pipeline = ?", arguments: [pipeline])
        }
    }

    public func setTested(pipeline: String, step: String, tested: Bool) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO stepStatus (pipeline, step, tested) VALUES (?, ?, ?)
                ON CONFLICT (pipeline, step) DO UPDATE SET tested = excluded.tested
                """, arguments: [pipeline, step, tested])
        }
    }
}

/// Writes events on its own queue, as many per transaction as have arrived: the engine never waits for the disk,
/// and a burst of events costs one commit.
final class EventWriter: Sendable {
    private struct State {
        var pending: [RunEvent] = []
        var draining = false
        var waiters: [CheckedContinuation<Void, any Error>] = []
        var failure: (any Error)?
    }

    private let pool: DatabasePool
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "sluice.store.writer")

    init(pool: DatabasePool) { self.pool = pool }

    func append(_ event: RunEvent) {
        let start = state.withLock { state in
            state.pending.append(event)
            defer { state.draining = true }
            return !state.draining
        }
        if start { queue.async { self.drain() } }
    }

    func flush() async throws {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Result<Void, any Error>? in
                if state.draining || !state.pending.isEmpty {
                    state.waiters.append(continuation)
                    return nil
                }
                defer { state.failure = nil }
                return state.failure.map { .failure($0) } ?? .success(())
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    private func drain() {
        while true {
            let batch = state.withLock { state -> [RunEvent] in
                defer { state.pending.removeAll(keepingCapacity: true) }
                return state.pending
            }
            if batch.isEmpty {
                let (waiters, failure) = state.withLock { state in
                    state.draining = false
                    defer { state.waiters = []; state.failure = nil }
                    return (state.waiters, state.failure)
                }
                for waiter in waiters { waiter.resume(with: failure.map { .failure($0) } ?? .success(())) }
                return
            }
            do {
                try pool.writeWithoutTransaction { db in
                    try db.inTransaction(.immediate) {
                        for event in batch { try EventSQL.apply(event, db) }
                        return .commit
                    }
                }
            } catch {
                state.withLock { $0.failure = $0.failure ?? error }
            }
        }
    }
}

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
    /// A URL with its password, if any, as `***`.
    public static func redacted(_ url: String) -> String {
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
            try await lock(new.pipeline, connection)
            earlier = try await value(StoreSQL.activeRun(pipeline: new.pipeline), as: String.self, connection)
        }
        if let earlier, new.concurrency == .reject { throw SluiceError.runRefused(pipeline: new.pipeline, blocking: earlier) }
        while true {
            let id = RunID.make()
            guard try await value(StoreSQL.runExists(id), as: String.self, connection) == nil else { continue }
            if let claim = new.claim { try await check(try StoreSQL.claim(claim, runID: id), connection) }
            let record = RunRecord(new, id: id, behind: earlier)
            try await run(try StoreSQL.insertRun(record, .postgres), connection)
            // Every step in one statement: a round trip each made creating a big run as slow as running it.
            try await connection.query(
                """
                INSERT INTO step_runs (runid, step, position, state, attempts, allowedfailure)
                SELECT \(id), name, ordinality - 1, 'pending', 0, FALSE FROM unnest(\(new.steps)::text[]) WITH ORDINALITY AS t(name, ordinality)
                ON CONFLICT (runid, step) DO NOTHING
                """, logger: logger)
            return record
        }
    }

    public func startIfFirstInQueue(runID: String) async throws -> Bool {
        try await transaction { connection in
            guard let pipeline = try await self.value(StoreSQL.pipelineOfRun(runID), as: String.self, connection) else { return false }
            try await self.lock(pipeline, connection)
            return try await self.value(StoreSQL.startIfFirstInQueue(runID), as: String.self, connection) != nil
        }
    }

    public func write(_ events: [RunEvent]) throws {
        try blocking { try await self.writeEvents(events) }
    }

    public func writeEvents(_ events: [RunEvent]) async throws {
        try await transaction { connection in
            // One writer of events at a time, so that events become visible in the order of their numbers.
            try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresEventSQL.lockKey))", logger: self.logger)
            try await PostgresEventSQL.apply(events, connection, logger: self.logger)
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
        try blocking { try await self.readValue(StoreSQL.renewLease(runID, until: until), as: Bool.self) ?? false }
    }

    public func takePoolSlot(_ pool: String, size: Int, runID: String, step: String) throws -> Bool {
        try blocking {
            try await self.transaction { connection in
                // Read committed: without the pool's lock, two hosts could both count one free slot and take it.
                try await self.lock("pool:\(pool)", connection)
                return try await self.value(
                    StoreSQL.takePoolSlot(pool, size: size, runID: runID, step: step, at: Date()), as: String.self, connection) != nil
            }
        }
    }

    public func releasePoolSlot(runID: String, step: String?) throws {
        try blocking { try await self.read(StoreSQL.releasePoolSlot(runID: runID, step: step), as: AnyRow.self) }
    }

    // MARK: Triggers

    public func advanceTrigger(_ claim: TriggerClaim) async throws -> Bool {
        let claim = try StoreSQL.claim(claim, runID: nil)
        do {
            try await transaction { connection in try await self.check(claim, connection) }
            return true
        } catch is TriggerClaimed {
            return false
        }
    }

    /// Checks `claim` in the caller's transaction, first waiting for the transactions that hold its lock.
    private func check(_ claim: SQLClaim, _ connection: PostgresConnection) async throws {
        if let key = claim.lock { try await lock(key, connection) }
        try claim.check(try await value(claim.statement, as: String.self, connection))
    }

    /// Waits for, then holds until the transaction ends, the advisory lock named `key`.
    private func lock(_ key: String, _ connection: PostgresConnection) async throws {
        try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(key)))", logger: logger)
    }

    // MARK: Schema

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

    // MARK: Statements

    private func run(_ statement: SQLStatement, _ connection: PostgresConnection) async throws {
        try await connection.query(statement.postgres, logger: logger)
    }

    private func value<T: StoreValue>(_ statement: SQLStatement, as type: T.Type, _ connection: PostgresConnection) async throws -> T? {
        try await first(T?.self, connection.query(statement.postgres, logger: logger)) ?? nil
    }

    func first<T: PostgresDecodable & Sendable>(_ type: T.Type, _ rows: PostgresRowSequence) async throws -> T? {
        for try await value in rows.decode(T.self) { return value }
        return nil
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

// The statements both stores share, run on PostgreSQL.
extension PostgresRunStore: SQLBackend {
    var dialect: SQLDialect { .postgres }
    var location: String { Self.redacted(url) }

    func read<T: StoreRecord>(_ statement: SQLStatement, as type: T.Type) async throws -> [T] {
        var records: [T] = []
        for try await row in try await client.query(statement.postgres, logger: logger) { records.append(try T(row: row.makeRandomAccess())) }
        return records
    }

    func readValue<T: StoreValue>(_ statement: SQLStatement, as type: T.Type) async throws -> T? {
        try await first(T?.self, client.query(statement.postgres, logger: logger)) ?? nil
    }

    func write<T: StoreRecord>(_ write: GuardedWrite, returning type: T.Type) async throws -> [T] {
        guard !write.then.isEmpty else { return try await read(write.condition, as: T.self) }
        // Events go in under the lock event writers hold, so that they become visible in the order of their numbers.
        let recordsEvents = write.then.contains { $0.sql == StoreSQL.insertEventSQL }
        return try await transaction { connection in
            if recordsEvents { try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresEventSQL.lockKey))", logger: self.logger) }
            var rows: [T] = []
            for try await row in try await connection.query(write.condition.postgres, logger: self.logger) {
                rows.append(try T(row: row.makeRandomAccess()))
            }
            if !rows.isEmpty { for statement in write.then { try await self.run(statement, connection) } }
            if recordsEvents && !rows.isEmpty {
                try await connection.query(PostgresQuery(unsafeSQL: "NOTIFY \(PostgresEventSQL.channel)"), logger: self.logger)
            }
            return rows
        }
    }
}

extension SQLStatement {
    /// The statement for PostgresNIO: numbered placeholders, and the values bound in order.
    var postgres: PostgresQuery {
        var binds = PostgresBindings()
        for value in values {
            switch value {
            case let .text(text): binds.append(text)
            case let .integer(number): binds.append(number)
            case let .real(number): binds.append(number)
            case let .bool(flag): binds.append(flag)
            case .null: binds.appendNull()
            }
        }
        return PostgresQuery(unsafeSQL: numberedPlaceholders, binds: binds)
    }
}

extension PostgresRandomAccessRow: StoreRow {
    func value<T: StoreValue>(_ column: String, as type: T.Type) throws -> T? { try self[column].decode(T?.self) }
}

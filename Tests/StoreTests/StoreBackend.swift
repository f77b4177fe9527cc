import Foundation
import PostgresNIO
@testable import SluiceKit
import SluiceTestSupport

/// The two stores the same tests run against: SQLite in a fresh file, PostgreSQL in a fresh database of the server
/// `scripts/test.sh` starts (`SLUICE_TEST_POSTGRES_URL`).
enum StoreBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite, postgres

    var description: String { rawValue }

    static var postgresURL: String? { ProcessInfo.processInfo.environment["SLUICE_TEST_POSTGRES_URL"] }

    /// A new, empty store.
    func make() async throws -> any RunStore {
        switch self {
        case .sqlite:
            return try SQLiteRunStore(path: try TestWorkspace().storePath)
        case .postgres:
            guard let server = Self.postgresURL, var components = URLComponents(string: server) else {
                throw TestFailure("SLUICE_TEST_POSTGRES_URL is not set: scripts/test.sh starts PostgreSQL and sets it")
            }
            let database = "sluice_test_" + RunID.make()
            let admin = PostgresClient(configuration: PostgresRunStore.configuration(server)!)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await admin.run() }
                try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(database)"))
                group.cancelAll()
            }
            components.path = "/" + database
            return try await PostgresRunStore(url: components.string!)
        }
    }
}

import Foundation
import SluiceTestSupport

@testable import SluiceKit

/// The two stores the same tests run against: SQLite in a fresh file, PostgreSQL in a fresh database of the server
/// `scripts/test.sh` starts (`SLUICE_TEST_POSTGRES_URL`).
enum StoreBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite, postgres

    var description: String { rawValue }

    /// A new, empty store.
    func make() async throws -> any RunStore { try await makeShared(1)[0] }

    /// `count` connections to one new, empty store, as separate processes would hold them.
    func makeShared(_ count: Int) async throws -> [any RunStore] {
        switch self {
        case .sqlite:
            let path = try TestWorkspace().storePath
            return try (0..<count).map { _ in try SQLiteRunStore(path: path) }
        case .postgres:
            let url = try await TestPostgres.newDatabase()
            var stores: [any RunStore] = []
            for _ in 0..<count { stores.append(try await PostgresRunStore(url: url)) }
            return stores
        }
    }
}

import Foundation
import PostgresNIO
import SluiceKit

/// The PostgreSQL server `scripts/test.sh` starts for the tests (`SLUICE_TEST_POSTGRES_URL`).
public enum TestPostgres {
    /// The URL of a new, empty database on it.
    public static func newDatabase() async throws -> String {
        guard let server = ProcessInfo.processInfo.environment["SLUICE_TEST_POSTGRES_URL"], var components = URLComponents(string: server),
            let configuration = PostgresRunStore.configuration(server)
        else {
            throw TestFailure("SLUICE_TEST_POSTGRES_URL is not set: scripts/test.sh starts PostgreSQL and sets it")
        }
        let database = "sluice_test_" + UUID().uuidString.prefix(8).lowercased().filter { $0.isLetter || $0.isNumber }
        let admin = PostgresClient(configuration: configuration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await admin.run() }
            try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(database)"))
            group.cancelAll()
        }
        components.path = "/" + database
        return components.string!
    }
}

extension TestPostgres {
    /// Runs `statement` with psql, as an operator would, and returns its output without headers (`-tA`).
    public static func psql(_ url: String, _ statement: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["psql", url, "-tAc", statement]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestFailure("psql: \(statement) failed") }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

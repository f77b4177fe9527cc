import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The `sluice` binary with `store: postgres://…`: runs, a backfill and a server over one shared PostgreSQL database.
@Suite(.serialized)
struct PostgresStoreCommandTests {
    @Test func theCLIAndAServerShareAPostgreSQLStore() async throws {
        let workspace = try TestWorkspace()
        let url = try await TestPostgres.newDatabase()
        // A password in the URL is accepted by a trusting server, and never shown.
        let withPassword = url.replacingOccurrences(of: "postgres@", with: "postgres:hunter2@")
        _ = try workspace.write("sluice.yaml", "store: \(withPassword)\n")
        try workspace.pipeline(
            "daily",
            """
            params: {day: {type: date, required: true}}
            steps:
              - {name: a, command: 'echo "$DAY"'}
              - {name: b, command: 'echo done', depends_on: [a]}
            """)
        let status = try await SluiceBinary.run(["db", "status"], in: workspace.root)
        #expect(status.stdout.contains("0 of 9 migrations applied") && status.stdout.contains("postgres:***@"), "\(status.stdout)\(status.stderr)")
        #expect(
            try TestPostgres.psql(url, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'") == "0",
            "db status changes nothing, not even a migrations table")
        let run = try await SluiceBinary.run(["run", "daily", "-p", "day=2026-11-22"], in: workspace.root)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let id = try #require(run.stdout.split(separator: " ").dropFirst().first.map(String.init))
        #expect(try workspace.read("runs/\(id)/logs/a.log") == "2026-11-22\n")
        #expect(!workspace.exists(".sluice/store.sqlite"), "nothing went to SQLite")
        let backfill = try await SluiceBinary.run(
            [
                "backfill", "daily", "--from", "2026-10-01", "--to", "2026-10-05", "--max-active", "2",
                "-p", "day={{ schedule.date }}",
            ], in: workspace.root)
        #expect(backfill.stdout.contains("5 of 5 runs succeeded"), "\(backfill.stdout)\(backfill.stderr)")
        #expect(await try SluiceBinary.run(["db", "status"], in: workspace.root).stdout.contains("runs     6"))
        let config = try await SluiceBinary.run(["config"], in: workspace.root).stdout
        #expect(config.contains("postgres:***@") && !config.contains("hunter2"))

        let server = try SluiceBinary.start(["serve", "--port", "0"], in: workspace.root)
        defer { kill(server.process.processIdentifier, SIGKILL) }
        let address = try #require(String(decoding: server.stdout.availableData, as: UTF8.self).split(separator: " ").last)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let (data, _) = try await URLSession.shared.data(from: try #require(URL(string: address + "/api/runs?pipeline=daily&limit=100")))
        let runs = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        #expect(runs.count == 6 && runs.contains { $0["id"] as? String == id }, "the server reads what the CLI recorded")
        let (health, _) = try await URLSession.shared.data(from: try #require(URL(string: address + "/api/health")))
        #expect(String(decoding: health, as: UTF8.self).contains("postgres:***@"))
    }

    @Test func sslmodeEncryptsAndVerifiesTheConnection() async throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline("p", "steps:\n  - {name: a, command: 'true'}\n")
        // The role `secure` may only connect over TLS (scripts/postgres.sh); the server's certificate is its own authority.
        let url = try await TestPostgres.newDatabase().replacingOccurrences(of: "//postgres@", with: "//secure@")
        let authority = try #require(ProcessInfo.processInfo.environment["SLUICE_TEST_POSTGRES_CA"], "scripts/test.sh sets it")
        func sluice(_ query: String) throws -> SluiceBinary.Result {
            try SluiceBinary.run(["run", "p"], in: workspace.root, environment: ["SLUICE_STORE": url + query])
        }
        let plain = try sluice("?sslmode=disable")
        #expect(plain.status == 70 && plain.stderr.contains("no encryption"), "\(plain.stderr)")
        #expect(try sluice("").status == 0, "TLS is preferred by default")
        let verified = try sluice("?sslmode=verify-full&sslrootcert=\(authority)")
        #expect(verified.status == 0, "\(verified.stderr)")
        let unverifiable = try sluice("?sslmode=verify-full")
        #expect(
            unverifiable.status == 70 && unverifiable.stderr.contains("certificate could not be verified: set sslrootcert"),
            "\(unverifiable.stderr)")
        let unreadable = try sluice("?sslmode=require&sslrootcert=/nowhere.pem")
        #expect(
            unreadable.status == 70 && unreadable.stderr.contains("sslrootcert '/nowhere.pem', which is not a readable PEM"),
            "\(unreadable.stderr)")
        let unknown = try sluice("?sslmode=sometimes")
        #expect(unknown.status == 65 && unknown.stderr.contains("sslmode 'sometimes'; use disable, prefer, require"), "\(unknown.stderr)")
        #expect(try TestPostgres.psql(url, "SELECT count(*) FROM runs WHERE status = 'success'") == "2")
    }

    @Test func anUnreachableOrMissingDatabaseIsAClearErrorAndExit70() throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline("p", "steps:\n  - {name: a, command: 'true'}\n")
        let missing = try SluiceBinary.run(
            ["run", "p"], in: workspace.root,
            environment: ["SLUICE_STORE": "postgres://postgres@127.0.0.1:\(Self.port)/no_such_database"])
        #expect(missing.status == 70 && missing.stderr.contains("database \"no_such_database\" does not exist"), "\(missing.stderr)")
        let nobody = try SluiceBinary.run(["runs"], in: workspace.root, environment: ["SLUICE_STORE": "postgres://postgres@127.0.0.1:1/x"])
        #expect(nobody.status == 70 && nobody.stderr.contains("cannot be reached"), "\(nobody.stderr)")
        let malformed = try SluiceBinary.run(["runs"], in: workspace.root, environment: ["SLUICE_STORE": "postgres://"])
        #expect(malformed.status == 65 && malformed.stderr.contains("setting 'store' must be a URL such as postgres://"), "\(malformed.stderr)")
    }

    static var port: Int { URLComponents(string: ProcessInfo.processInfo.environment["SLUICE_TEST_POSTGRES_URL"] ?? "")?.port ?? 5432 }
}

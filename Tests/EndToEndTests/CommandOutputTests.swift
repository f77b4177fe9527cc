import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// What the commands print says what is meant, and looking at a workspace changes nothing in it.
/// Serialized for the same reason as ``CommandLineTests``.
@Suite(.serialized)
struct CommandOutputTests {
    let workspace: TestWorkspace

    init() throws { workspace = try TestWorkspace() }

    func sluice(_ arguments: String..., environment: [String: String] = [:]) throws -> SluiceBinary.Result {
        try SluiceBinary.run(arguments, in: workspace.root, environment: environment)
    }

    @Test func countsSchedulesAndFailuresReadAsWritten() throws {
        try workspace.pipeline("one", """
            schedule: {cron: "0 6 * * *", timezone: UTC}
            steps:
              - {name: slow, command: 'sleep 5', timeout: 200ms}
            """)
        #expect(try sluice("validate").stdout.contains("one (1 step)\n"))
        #expect(try sluice("triggers").stdout.contains("cron \"0 6 * * *\" UTC  "), "the zone as the file names it, not GMT")
        let run = try sluice("run", "one")
        let line = try #require(run.stdout.split(separator: "\n").first { $0.hasPrefix("timeout") })
        #expect(line.hasPrefix("timeout  slow attempt 1:"), "labels line up: \(line)")
    }

    @Test func whyShowsTheOldAndNewHashOfAChangedScript() throws {
        try workspace.pipeline("collect", """
            steps:
              - {name: collect, script: collect.sh, outputs: [out.txt]}
            """)
        try workspace.script("collect", "collect.sh", "echo one > out.txt\n")
        #expect(try sluice("run", "collect").status == 0)
        try workspace.script("collect", "collect.sh", "echo two > out.txt\n")
        let why = try sluice("why", "collect", "collect").stdout
        let hashes = try #require(why.firstMatch(of: /changed \(([0-9a-f]{12}) -> ([0-9a-f]{12})\)/))
        #expect(hashes.1 != hashes.2, "\(why)")
    }

    @Test func anUnknownKindOfStoreIsAnErrorAndNothingIsCreated() throws {
        let refused = try sluice("db", "status", environment: ["SLUICE_STORE": "mysql://x@y/z"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("unknown kind of store ('mysql://')"))
        #expect(!workspace.exists("mysql:"))
    }

    @Test func dbStatusOfANewWorkspaceCreatesNoStore() throws {
        let status = try sluice("db", "status")
        #expect(status.status == 0)
        #expect(status.stdout.contains("not created yet"))
        #expect(!workspace.exists(".sluice"), "no store and no lock file")
    }

    @Test func configListsTheNotificationHandlers() throws {
        try workspace.write("sluice.yaml", "notify:\n  - webhook: https://hooks.example.com/T0/secret-path\n")
        let table = try sluice("config").stdout
        #expect(table.contains("webhook https://hooks.example.com/…"))
        #expect(!table.contains("secret-path"), "the URL's path is cut, as the API cuts it")
        let json = try JSONSerialization.jsonObject(with: Data(try sluice("config", "--json").stdout.utf8)) as? [[String: Any]]
        #expect(json?.contains { $0["key"] as? String == "notify" } == true)
    }
}

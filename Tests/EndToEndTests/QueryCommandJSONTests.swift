import Foundation
import SluiceTestSupport
import Testing

/// `--json` of `why`, `db status`, `logs` and `triggers`: one document each, in the shape docs/cli.md gives.
/// Serialized for the same reason as ``CommandLineTests``.
@Suite(.serialized)
struct QueryCommandJSONTests {
    let workspace: TestWorkspace

    init() throws { workspace = try TestWorkspace() }

    func sluice(_ arguments: String...) throws -> SluiceBinary.Result {
        try SluiceBinary.run(arguments, in: workspace.root)
    }

    /// The command's standard output, parsed; fails the test if it is not JSON.
    func json(_ arguments: String...) throws -> Any {
        let result = try SluiceBinary.run(arguments, in: workspace.root)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    }

    @Test func whySaysWhetherTheStepWouldRunAndWhy() throws {
        try workspace.pipeline("collect", "steps:\n  - {name: collect, command: 'echo one > out.txt', outputs: [out.txt]}\n")
        let before = try #require(try json("why", "collect", "collect", "--json") as? [String: Any])
        #expect(before["pipeline"] as? String == "collect")
        #expect(before["step"] as? String == "collect")
        #expect(before["up_to_date"] as? Bool == false)
        #expect((before["reasons"] as? [String])?.isEmpty == false, "\(before)")

        #expect(try sluice("run", "collect").status == 0)
        let after = try #require(try json("why", "collect", "collect", "--json") as? [String: Any])
        #expect(after["up_to_date"] as? Bool == true)
        #expect((after["reasons"] as? [String])?.count == 1, "\(after)")
    }

    @Test func dbStatusNamesTheStoreItsMigrationsAndItsRuns() throws {
        let fresh = try #require(try json("db", "status", "--json") as? [String: Any])
        #expect((fresh["store"] as? String)?.hasSuffix(".sluice/store.sqlite") == true, "\(fresh)")
        #expect(fresh["exists"] as? Bool == false)
        #expect(fresh["applied"] as? [String] == [] && fresh["pending"] as? [String] == [])
        #expect(fresh["runs"] as? Int == 0)
        #expect(!workspace.exists(".sluice"), "looking creates no store")

        try workspace.pipeline("p", "steps:\n  - {name: a, command: 'true'}\n")
        #expect(try sluice("run", "p").status == 0)
        let used = try #require(try json("db", "status", "--json") as? [String: Any])
        #expect(used["exists"] as? Bool == true)
        #expect((used["applied"] as? [String])?.isEmpty == false, "\(used)")
        #expect(used["pending"] as? [String] == [])
        #expect(used["runs"] as? Int == 1)
    }

    @Test func logsPrintsTheStepsOutputAsOneDocumentButNotWhileFollowing() throws {
        try workspace.pipeline(
            "p",
            #"""
            steps:
              - {name: a, command: 'printf "one\ntwo \"quoted\"\n"'}
            """#)
        #expect(try sluice("run", "p").status == 0)
        let runs = try #require(try json("runs", "--json") as? [[String: Any]])
        let id = try #require(runs.first?["id"] as? String)
        let log = try #require(try json("logs", id, "a", "--json") as? [String: Any])
        #expect(log["run"] as? String == id)
        #expect(log["step"] as? String == "a")
        #expect(log["log"] as? String == "one\ntwo \"quoted\"\n")

        let following = try sluice("logs", id, "a", "--json", "--follow")
        #expect(following.status == 64)
        #expect(following.stderr.contains("--json does not combine with --follow"), "\(following.stderr)")
    }

    @Test func triggersListsEverySchedulesAndWatchsStateWithTheNextTime() throws {
        try workspace.pipeline(
            "sales",
            """
            schedule: {name: nightly, cron: "0 6 * * *", timezone: Europe/Berlin, catch_up: latest}
            watch: {path: incoming, pattern: "*.csv", debounce: 2s}
            steps:
              - {name: report, command: 'true'}
            """)
        let listed = try #require(try json("triggers", "--json") as? [[String: Any]])
        #expect(listed.count == 2)
        let schedule = try #require(listed.first { $0["kind"] as? String == "schedule" })
        #expect(schedule["pipeline"] as? String == "sales")
        #expect(schedule["name"] as? String == "nightly")
        #expect(schedule["cron"] as? String == "0 6 * * *")
        #expect(schedule["timezone"] as? String == "Europe/Berlin")
        #expect(schedule["catch_up"] as? String == "latest")
        #expect(schedule["paused"] as? Bool == false)
        #expect(schedule["last_error"] is NSNull && schedule["error"] is NSNull, "\(schedule)")
        let next = try #require(schedule["next"] as? String)
        let nextTime = try #require(ISO8601DateFormatter().date(from: next), "\(next) is ISO 8601")
        #expect(nextTime > Date() && nextTime < Date().addingTimeInterval(86_400))
        #expect(next.hasSuffix("+01:00") || next.hasSuffix("+02:00"), "in the schedule's zone: \(next)")

        let watch = try #require(listed.first { $0["kind"] as? String == "watch" })
        #expect(watch["name"] as? String == "watch")
        #expect(watch["path"] as? String == "incoming")
        #expect(watch["patterns"] as? [String] == ["*.csv"])
        #expect(watch["debounce"] as? Double == 2)
        #expect(watch["next"] is NSNull && watch["cron"] is NSNull)

        #expect(try sluice("triggers", "pause", "sales").status == 0)
        let paused = try #require(try json("triggers", "--json") as? [[String: Any]])
        #expect(paused.allSatisfy { $0["paused"] as? Bool == true && $0["next"] is NSNull }, "\(paused)")
    }
}

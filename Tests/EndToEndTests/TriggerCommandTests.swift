import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// `sluice backfill`, `sluice scheduler` and `sluice triggers` as a user runs them. Serialized, as the other suites
/// that start the binary: blocking waits on child processes.
@Suite(.serialized)
struct TriggerCommandTests {
    let workspace: TestWorkspace

    init() throws {
        workspace = try TestWorkspace()
        try workspace.pipeline(
            "sales",
            """
            params:
              date_start: {type: date, required: true}
              date_end: {type: date, required: true, min: date_start}
            schedule: {cron: "0 6 * * *", timezone: Europe/Berlin, params: {date_start: "{{ schedule.date }}", date_end: "{{ schedule.end_date }}"}}
            watch: {path: incoming, pattern: "*.csv", debounce: 0.2s, params: {date_start: "2026-01-01", date_end: "2026-01-31"}}
            steps:
              - name: report
                command: 'echo "$DATE_START..$DATE_END $SLUICE_INTERVAL $SLUICE_CHANGED_PATHS"'
            """)
    }

    @Test func aBackfillOf30DaysRuns30TimesAndRepeatedRunsNothing() throws {
        let first = try SluiceBinary.run(
            ["backfill", "sales", "--from", "2026-10-01", "--to", "2026-10-30", "--max-active", "3"], in: workspace.root)
        #expect(first.status == 0, "\(first.stderr)")
        let lines = first.stdout.split(separator: "\n")
        #expect(lines.count { $0.hasSuffix("success") } == 30)
        #expect(lines.last?.contains("30 of 30 runs succeeded, 0 intervals skipped") == true)
        let runID = try #require(lines.first?.split(separator: " ", omittingEmptySubsequences: true).dropFirst(2).first)
        #expect(try workspace.read("runs/\(runID)/logs/report.log") == "2026-10-01..2026-10-01 2026-10-01 \n")

        let again = try SluiceBinary.run(["backfill", "sales", "--from", "2026-10-01", "--to", "2026-10-30"], in: workspace.root)
        #expect(again.status == 0)
        #expect(again.stdout.contains("0 of 0 runs succeeded, 30 intervals skipped"))
        #expect(
            try SluiceBinary.run(["runs", "--limit", "100"], in: workspace.root).stdout.split(separator: "\n").count { $0.contains("backfill") } == 30
        )

        let backwards = try SluiceBinary.run(["backfill", "sales", "--from", "2026-10-30", "--to", "2026-10-01"], in: workspace.root)
        #expect(backwards.status == 65 && backwards.stderr.contains("--from: the first date, 2026-10-30, is after the last, 2026-10-01"))
        try workspace.pipeline("plain", "params: {day: {type: date}}\nsteps:\n  - {name: a, command: 'true'}\n")
        let noDates = try SluiceBinary.run(["backfill", "plain", "--from", "2026-10-01", "--to", "2026-10-02"], in: workspace.root)
        #expect(noDates.status == 65 && noDates.stderr.contains("-p 'date_start={{ schedule.date }}'"), "\(noDates.stderr)")
    }

    @Test func ctrlCStopsABackfillAndRecordsItsRunsCancelled() throws {
        try workspace.pipeline("slow", "params: {day: {type: date}}\nsteps:\n  - {name: a, command: 'sleep 30'}\n")
        let arguments = ["backfill", "slow", "--from", "2026-01-01", "--to", "2026-01-10", "--max-active", "2", "-p", "day={{ schedule.date }}"]
        let backfill = try SluiceBinary.start(arguments, in: workspace.root)
        defer { if backfill.process.isRunning { kill(backfill.process.processIdentifier, SIGKILL) } }
        let statuses = { try Python.sqlite(workspace.storePath, "SELECT status, count(*) FROM runs GROUP BY status ORDER BY status") }
        #expect(waitUntil { ((try? statuses()) ?? "").contains("running 2") }, "two running, eight queued")
        #expect(try statuses().contains("queued 8"))
        kill(backfill.process.processIdentifier, SIGINT)
        backfill.process.waitUntilExit()
        #expect(backfill.process.terminationStatus == 130)
        #expect(try statuses() == "cancelled 10", "the running and the queued runs are recorded cancelled")
    }

    @Test func theSchedulerStartsOneRunWhenAFileIsDroppedIntoTheWatchedFolder() throws {
        try FileManager.default.createDirectory(atPath: workspace.path("incoming"), withIntermediateDirectories: true)
        let scheduler = try SluiceBinary.start(["scheduler"], in: workspace.root)
        defer { if scheduler.process.isRunning { kill(scheduler.process.processIdentifier, SIGKILL) } }
        // Once the scheduler has looked at the folder (its state is in the store), a new file is a change.
        #expect(waitUntil { ((try? Python.sqlite(workspace.storePath, "SELECT count(*) FROM triggers")) ?? "").hasPrefix("2") })
        _ = try workspace.write("incoming/2026-01.csv", "day,total\n")
        let runs = { try Python.sqlite(workspace.storePath, "SELECT id || ' ' || status FROM runs WHERE trigger = 'watch'") }
        #expect(try waitUntil { try runs().hasSuffix(" success\n") || runs().hasSuffix(" success") })
        let id = try #require(try runs().split(separator: " ").first)
        #expect(try workspace.read("runs/\(id)/logs/report.log") == "2026-01-01..2026-01-31  incoming/2026-01.csv\n")

        let listed = try SluiceBinary.run(["triggers"], in: workspace.root).stdout
        #expect(listed.contains("sales  schedule  cron \"0 6 * * *\" Europe/Berlin  catch_up none  next "))
        #expect(listed.contains("sales  watch  watch incoming *.csv"))
        #expect(try SluiceBinary.run(["triggers", "pause", "sales"], in: workspace.root).status == 0)
        #expect(try SluiceBinary.run(["triggers"], in: workspace.root).stdout.contains("catch_up none  paused"))

        kill(scheduler.process.processIdentifier, SIGTERM)
        scheduler.process.waitUntilExit()
        #expect(scheduler.process.terminationStatus == 0)
        #expect(try runs().split(separator: "\n").count == 1, "one file, one run")
    }

    @Test func aPipelineThatDoesNotLoadIsListedWithWhyItStartsNoRuns() throws {
        try workspace.pipeline("leap", "schedule: \"0 0 31 2 *\"\nsteps:\n  - {name: a, command: 'true'}\n")
        let listed = try SluiceBinary.run(["triggers"], in: workspace.root)
        #expect(listed.status == 0)
        let problem =
            "\(workspace.path("pipelines/leap.yaml")):1:11: invalid cron expression: '0 0 31 2 *' never fires: no date matches day 31 of February"
        #expect(listed.stdout.contains("leap  (invalid)  next never: \(problem)\n"), "\(listed.stdout)")
        #expect(listed.stdout.contains("sales  schedule  cron"), "the pipelines that load are listed as before")

        let json = try JSONSerialization.jsonObject(with: Data(try SluiceBinary.run(["triggers", "--json"], in: workspace.root).stdout.utf8))
        let invalid = try #require((json as? [[String: Any]])?.first { $0["pipeline"] as? String == "leap" })
        #expect(invalid["kind"] as? String == "invalid")
        #expect(invalid["name"] is NSNull && invalid["next"] is NSNull)
        #expect(invalid["error"] as? String == problem)
    }

    @Test func validateRefusesACronThatNoDateMatchesAtItsPosition() throws {
        try workspace.pipeline(
            "leap",
            """
            schedule:
              - {name: a, cron: "0 0 31 2 *"}
              - {name: b, cron: "0 0 30,31 feb *"}
              - {name: c, cron: "0 0 31 4,6,9,11 *"}
              - {name: d, cron: "0 0 31 2 mon"}
              - {name: e, cron: "0 0 29 2 *"}
            steps:
              - {name: a, command: 'true'}
            """)
        let checked = try SluiceBinary.run(["validate", "leap"], in: workspace.root)
        #expect(checked.status == 65)
        let file = workspace.path("pipelines/leap.yaml")
        #expect(
            checked.stdout.contains("\(file):2:21: error: invalid cron expression: '0 0 31 2 *' never fires: no date matches day 31 of February\n"),
            "\(checked.stdout)")
        #expect(
            checked.stdout.contains(
                "\(file):3:21: error: invalid cron expression: '0 0 30,31 feb *' never fires: no date matches day 30 or 31 of February\n"))
        #expect(
            checked.stdout.contains(
                "\(file):4:21: error: invalid cron expression: '0 0 31 4,6,9,11 *' never fires: no date matches day 31 of April, June, September or November\n"
            ))
        #expect(checked.stdout.components(separatedBy: ": error: ").count == 4, "Mondays in February and leap days do come: \(checked.stdout)")
    }
}

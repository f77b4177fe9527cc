import Foundation
import SluiceTestSupport
import Testing

/// Seed 000's analysis workflow: phases 0 to 6, modes, validated parameters, checks that fail.
extension ExampleTests {
    @Test func analysisWorkflowRunsEveryPhaseAndItsOutputsAgreeWithTheData() throws {
        let workspace = try TestWorkspace.example("analysis_workflow")
        let run = try workspace.runThroughBinary("analysis_workflow", "-p", "users=400", "-p", "date_start=2025-10-01", "-p", "date_end=2025-10-31")
        #expect(run.exitCode == 0, "\(run.stderr)")
        #expect(Set(run.states.values) == ["succeeded"] && run.states.count == 8)

        let schema = try workspace.json("\(run.directory)/outputs/schema/schema.json") as! [String: Any]
        let types = Dictionary(uniqueKeysWithValues: (schema["fields"] as! [[String: Any]]).map { ($0["name"] as! String, $0["type"] as! String) })
        #expect(
            types["event_time"] == "timestamp" && types["event_date"] == "date" && types["revenue_usd"] == "float"
                && types["session_seconds"] == "integer" && types["user_id"] == "string")
        let mapping = try workspace.json("\(run.directory)/outputs/schema/field_mapping.json") as! [String: String]
        #expect(mapping["revenue"] == "revenue_usd" && mapping["user"] == "user_id" && mapping["timestamp"] == "event_time")

        // The aggregation, counted again here from the raw events.
        let events = try workspace.csvRows("data/analysis_workflow/app_events.csv")
        let october = events.dropFirst().filter { $0[2] >= "2025-10-01" && $0[2] <= "2025-10-31" }
        #expect(schema["rows"] as? Int == events.count - 1)
        let totals = try workspace.json("\(run.directory)/outputs/aggregations/totals.json") as! [String: Any]
        #expect(totals["events"] as? Int == october.count)
        #expect(totals["users"] as? Int == Set(october.map { $0[4] }).count)
        let daily = try workspace.csvRows("\(run.directory)/outputs/aggregations/daily_metrics.csv")
        #expect(daily.count - 1 == Set(october.map { "\($0[2]) \($0[3])" }).count, "one row per day and app with events")

        let qa = try workspace.json("\(run.directory)/outputs/validation/qa_report.json") as! [String: Any]
        #expect(qa["passed"] as? Bool == true && (qa["checks"] as? [Any])?.count == 10)
        let index = try workspace.json("\(run.directory)/outputs/reports/index.json") as! [[String: Any]]
        #expect(
            Set(index.map { $0["path"] as! String }).isSuperset(of: [
                "schema/schema.json", "aggregations/daily_metrics.csv",
                "segments/segment_stats.json", "reports/insights.md",
            ]))
        #expect(try lines(run.output("reports/insights.md")).count > 5)

        let again = try workspace.runThroughBinary("analysis_workflow", "-p", "users=400", "-p", "date_start=2025-10-01", "-p", "date_end=2025-10-31")
        #expect(again.states["extract_events"] == "up_to_date", "the data set is generated once")
    }

    @Test func analysisWorkflowModesAndParametersAreCheckedBeforeAnythingRuns() throws {
        let workspace = try TestWorkspace.example("analysis_workflow")
        let schemaOnly = try workspace.runThroughBinary("analysis_workflow", "--mode", "schema-only", "-p", "users=200")
        #expect(schemaOnly.exitCode == 0)
        #expect(schemaOnly.states.keys.sorted() == ["extract_events", "schema_discovery", "system_initialisation"])
        #expect(!workspace.exists("\(schemaOnly.directory)/outputs/aggregations/daily_metrics.csv"))

        let backwards = try SluiceBinary.run(
            ["run", "analysis_workflow", "-p", "date_start=2025-10-01", "-p", "date_end=2025-09-01"], in: workspace.root)
        #expect(backwards.status == 65)
        #expect(backwards.stderr.contains("parameter 'date_end': '2025-09-01' is before its minimum, date_start (2025-10-01)"))
        let badFocus = try SluiceBinary.run(["run", "analysis_workflow", "-p", "focus=money", "-p", "date_start=2025-02-30"], in: workspace.root)
        #expect(badFocus.status == 65 && badFocus.stderr.contains("'money' is not one of") && badFocus.stderr.contains("'2025-02-30' is not a date"))

        let dryRun = try SluiceBinary.run(["run", "analysis_workflow", "--dry-run", "--mode", "validate-only"], in: workspace.root)
        #expect(dryRun.status == 0)
        #expect(dryRun.stdout.contains("4 of 8 steps would run"))
        #expect(dryRun.stdout.contains("skip  data_aggregation      not in mode 'validate-only'"))
        let runs = try JSONSerialization.jsonObject(with: Data(try SluiceBinary.run(["runs", "--json"], in: workspace.root).stdout.utf8)) as! [Any]
        #expect(runs.count == 1, "neither the refused runs nor the dry run recorded anything")
    }

    @Test func analysisWorkflowFailedCheckStopsTheRunUnlessContinueOnError() throws {
        let workspace = try TestWorkspace.example("analysis_workflow")
        // One step at a time, as the seed runs its phases, so that the check fails before insights could start.
        let stopped = try workspace.runThroughBinary("analysis_workflow", "-j", "1", "-p", "users=200", "-p", "app_filter=com.example.none")
        #expect(stopped.exitCode == 1 && stopped.status == "failed")
        #expect(stopped.states["quality_assurance"] == "failed")
        #expect(stopped.states["insights"] == "skipped")
        #expect(stopped.states["final_reporting"] == "succeeded", "phase 6 runs whatever happened (trigger_rule: all_done)")
        let summary = try workspace.json("\(stopped.directory)/outputs/reports/run_summary.json") as! [String: Any]
        #expect(summary["failed_checks"] as? [String] == ["sample size"])

        let continued = try workspace.runThroughBinary(
            "analysis_workflow", "-j", "1", "--continue-on-error", "-p", "users=200",
            "-p", "app_filter=com.example.none")
        #expect(continued.exitCode == 1 && continued.states["quality_assurance"] == "failed")
        #expect(continued.states["insights"] == "succeeded")
    }
}

import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// `schedule:` and `watch:` as written in a pipeline file, and what is wrong with them, by line.
struct TriggerDefinitionTests {
    func load(_ yaml: String) throws -> Result<Pipeline, DefinitionError> {
        let workspace = try TestWorkspace()
        try workspace.pipeline("p", yaml)
        return PipelineCatalog.scan(workspace.pipelinesDirectory).entry("p")!.result
    }

    @Test func schedulesAndWatchesInTheirShortAndLongForms() throws {
        let pipeline = try load(
            """
            params: {day: {type: date}}
            schedule:
              - "@daily"
              - {name: mornings, cron: "30 6 * * mon-fri", timezone: America/New_York, catch_up: all, max_catch_up: 5,
                 params: {day: "{{ schedule.date }}"}}
            watch: {path: monthlyReports_history, pattern: ["*.xlsx", "*.csv"], debounce: 30s}
            steps:
              - {name: a, command: "true"}
            """
        ).get()
        #expect(pipeline.schedules.map(\.name) == ["schedule", "mornings"])
        #expect(pipeline.schedules[1].timeZone.identifier == "America/New_York")
        #expect(pipeline.schedules[1].catchUp == .all && pipeline.schedules[1].catchUpLimit == 5)
        #expect(pipeline.schedules[0].catchUp == .none, "missed runs are not caught up unless asked")
        #expect(pipeline.watches.map(\.name) == ["watch"])
        #expect(pipeline.watches[0].patterns == ["*.xlsx", "*.csv"] && pipeline.watches[0].debounce == 30)
    }

    @Test func mistakesAreReportedAtTheirLine() throws {
        guard
            case let .failure(error) = try load(
                """
                params: {day: {type: date}}
                schedule:
                  - cron: "0 25 * * *"
                  - {cron: "@daily", timezone: Mars/Olympus}
                  - {cron: "@daily", catch_up: sometimes}
                  - {cron: "@daily", params: {day: "{{ schedule.tomorrow }}"}}
                  - {cron: "@daily", params: {days: "{{ schedule.date }}"}}
                  - {timezone: UTC}
                watch:
                  - {pattern: "*.csv"}
                  - {name: schedule-2, path: in}
                steps:
                  - {name: a, command: "true"}
                """)
        else {
            Issue.record("expected problems")
            return
        }
        let found = error.diagnostics.map { "\($0.location.line): \($0.message)" }
        let expected = [
            "3: invalid cron expression: hour field '25': 25 is out of range 0-23",
            "4: unknown time zone 'Mars/Olympus'",
            "5: 'catch_up' must be none, latest or all, not 'sometimes'",
            "6: unknown placeholder '{{ schedule.tomorrow }}' in parameter 'day'",
            "7: trigger 'schedule-5' sets 'days', which is not a parameter of this pipeline",
            "8: a schedule has no 'cron'",
            "10: a watch has no 'path'",
            "11: two triggers are named 'schedule-2'",
        ]
        for line in expected { #expect(found.contains(line), "\(line)\nin \(found)") }
        #expect(found.count == expected.count, "\(found)")
    }
}

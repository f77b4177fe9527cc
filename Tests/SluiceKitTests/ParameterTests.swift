import SluiceKit
import SluiceTestSupport
import Testing

/// Parameters are checked against their declarations before anything runs.
struct ParameterTests {
    let specs: [ParameterSpec]

    init() throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline("p", """
            params:
              app_filter: {type: string, required: true}
              date_start: {type: date, default: "2025-09-01"}
              quick: {type: bool, default: "false"}
              iterations: {type: int, default: "100"}
              threshold: {type: number}
              focus: {type: choice, choices: [revenue, engagement, growth, health, retention]}
            steps:
              - {name: a, command: 'true'}
            """)
        specs = try workspace.load("p").parameters
    }

    @Test func valuesAreNormalisedAndDefaultsApplied() throws {
        let values = try ParameterBinding.bind(["app_filter": "com.example", "quick": "yes", "focus": "growth", "threshold": "0.95"],
                                               to: specs).get()
        #expect(values == ["app_filter": "com.example", "date_start": "2025-09-01", "quick": "true", "iterations": "100",
                           "threshold": "0.95", "focus": "growth"])
    }

    @Test func everyProblemNamesTheParameterAndTheExpectedForm() throws {
        let result = ParameterBinding.bind(["date_start": "2025-02-30", "iterations": "many", "focus": "money", "quick": "maybe",
                                            "apps": "x"], to: specs)
        guard case let .failure(errors) = result else { Issue.record("expected errors"); return }
        #expect(errors.problems.map(\.description) == [
            "parameter 'apps': unknown parameter; declared: app_filter, date_start, quick, iterations, threshold, focus",
            "parameter 'app_filter': is required: pass -p app_filter=<any text>",
            "parameter 'date_start': '2025-02-30' is not a date written YYYY-MM-DD",
            "parameter 'quick': 'maybe' is not true or false",
            "parameter 'iterations': 'many' is not a whole number such as 42",
            "parameter 'focus': 'money' is not one of: revenue, engagement, growth, health, retention",
        ])
    }

    @Test func misspeltParameterGetsASuggestion() throws {
        guard case let .failure(errors) = ParameterBinding.bind(["app_filter": "x", "date_strat": "2025-01-01"], to: specs) else {
            Issue.record("expected an error")
            return
        }
        #expect(errors.problems.first?.message == "unknown parameter; did you mean 'date_start'?")
    }

    @Test(arguments: ["2024-02-29", "2000-02-29", "1999-12-31"])
    func realDatesPass(date: String) {
        #expect(specs[1].normalize(date) == .success(date))
    }

    @Test(arguments: ["2023-02-29", "1900-02-29", "2025-13-01", "2025-1-01", "20250101", "2025-04-31"])
    func impossibleDatesFail(date: String) {
        #expect(specs[1].normalize(date) != .success(date))
    }
}

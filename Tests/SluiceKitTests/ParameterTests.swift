import SluiceKit
import SluiceTestSupport
import Testing

/// Parameters are checked against their declarations before anything runs.
struct ParameterTests {
    let specs: [ParameterSpec]

    init() throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline(
            "p",
            """
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
        let values = try ParameterBinding.bind(
            ["app_filter": "com.example", "quick": "yes", "focus": "growth", "threshold": "0.95"],
            to: specs
        ).get()
        #expect(
            values == [
                "app_filter": "com.example", "date_start": "2025-09-01", "quick": "true", "iterations": "100",
                "threshold": "0.95", "focus": "growth",
            ])
    }

    @Test func everyProblemNamesTheParameterAndTheExpectedForm() throws {
        let result = ParameterBinding.bind(
            [
                "date_start": "2025-02-30", "iterations": "many", "focus": "money", "quick": "maybe",
                "apps": "x",
            ], to: specs)
        guard case let .failure(errors) = result else {
            Issue.record("expected errors")
            return
        }
        #expect(
            errors.problems.map(\.description) == [
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

/// `min` and `max` bound ordered parameters, by a value or by another parameter (seed 000: start before end).
struct ParameterBoundTests {
    let specs: [ParameterSpec]

    init() throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline(
            "p",
            """
            params:
              date_start: {type: date, default: "2025-09-01", min: "2020-01-01"}
              date_end: {type: date, default: "2025-09-30", min: date_start}
              iterations: {type: int, default: "100", min: 1, max: 10000}
            steps:
              - {name: a, command: 'true'}
            """)
        specs = try workspace.load("p").parameters
    }

    @Test func valuesWithinTheirBoundsPass() throws {
        let values = try ParameterBinding.bind(["date_start": "2025-09-30", "iterations": "10000"], to: specs).get()
        #expect(values["date_end"] == "2025-09-30")
    }

    @Test func anEndBeforeItsStartIsRefusedNamingBoth() {
        guard case let .failure(errors) = ParameterBinding.bind(["date_start": "2025-10-01", "iterations": "0"], to: specs) else {
            Issue.record("expected errors")
            return
        }
        #expect(
            errors.problems.map(\.description) == [
                "parameter 'date_end': '2025-09-30' is before its minimum, date_start (2025-10-01)",
                "parameter 'iterations': '0' is below its minimum, 1",
            ])
    }

    @Test func aDefaultOutsideItsBoundsIsAValidationError() throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline(
            "p",
            """
            params:
              lvl: {type: int, default: "5", max: 3}
              start: {type: date, default: "2026-02-01"}
              end: {type: date, default: "2026-01-01", min: start}
            steps:
              - {name: a, command: 'true'}
            """)
        let found = PipelineCatalog.scan(workspace.pipelinesDirectory).entry("p")?.diagnostics ?? []
        #expect(
            found.map(\.message) == [
                "parameter 'lvl' has a default outside its bounds: '5' is above its maximum, 3; a run not given 'lvl' would be refused",
                "parameter 'end' has a default outside its bounds: '2026-01-01' is before its minimum, start (2026-02-01); a run not given 'end' would be refused",
            ])
        #expect(found.map(\.location.line) == [2, 4])
    }

    @Test func everyParameterProblemIsReportedAtOnce() throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline(
            "p",
            """
            params:
              lvl: {type: int, max: 10}
              s: {type: choice, choices: [x, y]}
            steps:
              - {name: a, command: 'true'}
            """)
        guard case let .failure(errors) = ParameterBinding.bind(["lvl": "11", "s": "z"], to: try workspace.load("p").parameters) else {
            Issue.record("expected errors")
            return
        }
        #expect(errors.problems.map(\.parameter).sorted() == ["lvl", "s"], "the choice and the bound, in one round: \(errors)")
    }

    @Test func boundsThatCannotApplyAreValidationErrors() throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline(
            "p",
            """
            params:
              app: {type: string, min: a}
              start: {type: date, max: app}
              limit: {type: int, max: lots}
            steps:
              - {name: a, command: 'true'}
            """)
        let messages = PipelineCatalog.scan(workspace.pipelinesDirectory).entry("p")?.diagnostics.map(\.message)
        #expect(
            messages == [
                "parameter 'app' is a string; 'min' applies to int, number and date",
                "'max' of parameter 'start' names 'app', which is not another date parameter",
                "'max' of parameter 'limit' is neither a whole number such as 42 nor a parameter's name: 'lots'",
            ])
    }
}

import SluiceKit
import SluiceTestSupport
import Testing

/// Selection rules and the reasons the plan gives for each step.
struct PlanningTests {
    /// extract → (clean, profile) → report, plus an independent `notify`.
    let pipeline: Pipeline

    init() throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline(
            "p",
            """
            modes:
              quick: [clean, notify]
              reporting: {steps: [publish], description: by tag}
            steps:
              - {name: extract, command: 'true'}
              - {name: clean, command: 'true', depends_on: [extract]}
              - {name: profile, command: 'true', depends_on: [extract]}
              - {name: report, command: 'true', depends_on: [clean, profile], tags: [publish]}
              - {name: notify, command: 'true'}
            """)
        pipeline = try workspace.load("p")
    }

    func included(_ selection: Selection) throws -> [String] {
        try Planner.plan(pipeline, selection: selection).included.map(\.step.name)
    }

    func reason(_ step: String, _ selection: Selection) throws -> String {
        try Planner.plan(pipeline, selection: selection).entries.first { $0.step.name == step }!.reason
    }

    @Test func wholePipelineRunsInDependencyOrder() throws {
        let order = try included(Selection())
        #expect(order == ["extract", "clean", "profile", "report", "notify"])
        #expect(try reason("report", Selection()) == "part of the pipeline")
    }

    @Test func fromKeepsTheStepAndEverythingDownstream() throws {
        #expect(try included(Selection(from: ["clean"])) == ["clean", "report"])
        #expect(try reason("extract", Selection(from: ["clean"])) == "before --from clean")
    }

    @Test func toKeepsTheStepAndEverythingUpstream() throws {
        #expect(try included(Selection(to: ["clean"])) == ["extract", "clean"])
        #expect(try reason("report", Selection(to: ["clean"])) == "after --to clean")
    }

    @Test func onlyAndSkip() throws {
        #expect(try included(Selection(only: ["profile", "notify"])) == ["profile", "notify"])
        #expect(try included(Selection(skip: ["extract", "notify"])) == ["clean", "profile", "report"])
        #expect(try reason("notify", Selection(skip: ["notify"])) == "skipped by --skip")
    }

    @Test func aSingleStepRunsAloneOrWithItsUpstream() throws {
        #expect(try included(Selection(steps: ["report"])) == ["report"])
        #expect(try reason("clean", Selection(steps: ["report"])) == "not selected (running report alone)")
        #expect(try included(Selection(steps: ["report"], withDependencies: true)) == ["extract", "clean", "profile", "report"])
        #expect(try reason("extract", Selection(steps: ["report"], withDependencies: true)) == "upstream of report (--with-deps)")
    }

    @Test func modesSelectByStepNameOrTag() throws {
        #expect(try included(Selection(mode: "quick")) == ["clean", "notify"])
        #expect(try included(Selection(mode: "reporting")) == ["report"])
        #expect(try reason("extract", Selection(mode: "quick")) == "not in mode 'quick'")
    }

    @Test func selectionFlagsTakeTagsForEveryStepThatCarriesThem() throws {
        #expect(try included(Selection(skip: ["publish"])) == ["extract", "clean", "profile", "notify"])
        #expect(try reason("report", Selection(skip: ["publish"])) == "skipped by --skip")
        #expect(try included(Selection(only: ["publish", "clean"])) == ["clean", "report"])
    }

    @Test func unknownNamesAreRefusedWithSuggestions() throws {
        let error = try #require(throws: SelectionError.self) { try Planner.plan(pipeline, selection: Selection(from: ["claen"], mode: "fast")) }
        #expect(
            error.problems == [
                "--from: 'claen' is neither a step nor a tag of pipeline 'p' (did you mean 'clean'?)",
                "--mode: pipeline 'p' has no mode 'fast'; its modes are: quick, reporting",
            ])
    }

    @Test func deepChainsNeedNoRecursion() throws {
        let steps = (0..<50_000).map { index in
            "  - {name: s\(index), command: 'true'\(index > 0 ? ", depends_on: [s\(index - 1)]" : "")}"
        }
        let workspace = try TestWorkspace()
        try workspace.pipeline("chain", "steps:\n" + steps.joined(separator: "\n"))
        let plan = try Planner.plan(try workspace.load("chain"))
        #expect(plan.included.count == 50_000)
        #expect(plan.included.last?.step.name == "s49999")
    }
}

extension PlanningTests {
    @Test func stepsThatCouldGoNextFollowFileOrder() throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline(
            "p",
            """
            steps:
              - {name: generate, command: 'true'}
              - {name: clean, command: 'true', depends_on: [generate]}
              - {name: profile, command: 'true', depends_on: [generate]}
              - {name: aggregate, command: 'true', depends_on: [clean]}
              - {name: report, command: 'true', depends_on: [aggregate, profile]}
            """)
        #expect(try Planner.plan(try workspace.load("p")).entries.map(\.step.name) == ["generate", "clean", "profile", "aggregate", "report"])
    }
}

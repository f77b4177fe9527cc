import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// A step's fingerprint holds only the parameters it uses, as DVC's stages do: the ones its templates, `if:` and
/// `foreach:` name, and the ones it lists under `params:`. A step that names and lists none depends on them all.
struct StepParameterTests {
    let workspace: TestWorkspace

    init() throws { workspace = try TestWorkspace() }

    /// DVC's example: `prepare` reads `split`, `featurize` reads `max_features`, `train` reads `seed` from its
    /// environment and says so, `report` names none, `archive` lists none.
    private func pipeline() throws {
        try workspace.pipeline(
            "ml",
            """
            params:
              split: {type: number, default: "0.2"}
              max_features: {type: int, default: "100"}
              seed: {type: int, default: "1"}
            steps:
              - name: prepare
                command: 'echo {{ params.split }} > prepared.txt; echo prepare >> ran.txt'
                outputs: [prepared.txt]
              - name: featurize
                command: 'cat prepared.txt > features.txt; echo {{ params.max_features }} >> features.txt; echo featurize >> ran.txt'
                depends_on: [prepare]
                inputs: [prepared.txt]
                outputs: [features.txt]
              - name: train
                command: 'echo "$SEED" > model.txt; echo train >> ran.txt'
                params: [seed]
                outputs: [model.txt]
              - name: report
                command: 'echo report > report.txt; echo report >> ran.txt'
                outputs: [report.txt]
              - name: archive
                command: 'echo archive > archive.txt; echo archive >> ran.txt'
                params: []
                outputs: [archive.txt]
            """)
    }

    private func ran() throws -> [String] { try workspace.read("ran.txt").split(separator: "\n").map(String.init).sorted() }

    @Test func aParameterChangeRerunsOnlyTheStepsThatUseIt() async throws {
        try pipeline()
        let first = try await workspace.run("ml", jobs: 1)
        #expect(first.run.status == .success)
        try FileManager.default.removeItem(atPath: workspace.path("ran.txt"))

        let second = try await workspace.run("ml", parameters: ["max_features": "300"], jobs: 1)
        #expect(second.run.status == .success)
        #expect(try ran() == ["featurize", "report"], "prepare, train and archive do not use max_features; report names no parameter")
        #expect(second.step("prepare")?.state == .upToDate)
        #expect(second.step("featurize")?.state == .succeeded)
        #expect(try workspace.read("features.txt") == "0.2\n300\n")
        try FileManager.default.removeItem(atPath: workspace.path("ran.txt"))

        let third = try await workspace.run("ml", parameters: ["max_features": "300", "seed": "7"], jobs: 1)
        #expect(try ran() == ["report", "train"])
        #expect(try workspace.read("model.txt") == "7\n", "a listed parameter is in the step's environment")
        #expect(third.step("archive")?.state == .upToDate, "params: [] depends on no parameter")
    }

    @Test func whyNamesOnlyTheParametersTheStepUses() async throws {
        try pipeline()
        _ = try await workspace.run("ml", jobs: 1)
        let pipeline = try workspace.load("ml")
        #expect(pipeline.steps.first { $0.name == "prepare" }?.parameters == ["split"])
        #expect(pipeline.steps.first { $0.name == "train" }?.parameters == ["seed"])
        #expect(pipeline.steps.first { $0.name == "report" }?.parameters == nil)
        #expect(pipeline.steps.first { $0.name == "archive" }?.parameters == [])
        let why = try await SluiceBinary.run(["why", "ml", "featurize", "-p", "max_features=300", "-p", "seed=2"], in: workspace.root)
        #expect(why.stdout.contains("parameter 'max_features' changed") && !why.stdout.contains("seed"), "\(why.stdout)\(why.stderr)")
    }

    @Test func aListedParameterThePipelineDoesNotDeclareIsRefusedWithASuggestion() async throws {
        try workspace.pipeline(
            "typo",
            """
            params: {max_features: {type: int, default: "1"}}
            steps:
              - {name: a, command: 'true', params: [max_feature]}
              - {name: b, command: 'true', params: "  "}
            """)
        let validate = try await SluiceBinary.run(["validate", "typo"], in: workspace.root)
        #expect(validate.status != 0)
        #expect(validate.stdout.contains("typo.yaml:3:") && validate.stdout.contains("lists 'max_feature'"), "\(validate.stdout)")
        #expect(validate.stdout.contains("did you mean 'max_features'?"), "\(validate.stdout)")
        #expect(validate.stdout.contains("typo.yaml:4:"), "a blank name is refused too: \(validate.stdout)")
    }

    /// A fan-out's instances that name no parameter depend on all but their list; a join after it depends on the list.
    @Test func aFanOutsInstancesAndItsJoinRerunWhenWhatTheyUseChanges() async throws {
        try workspace.pipeline(
            "fan",
            """
            params:
              samples: {type: list, default: [a, b]}
              threshold: {type: int, default: "1"}
              label: {type: string, default: "x"}
            steps:
              - name: map
                foreach: "{{ params.samples }}"
                command: 'echo "$THRESHOLD" > "out-$SLUICE_ITEM.txt"; echo map >> ran.txt'
                outputs: ["out-{{ item }}.txt"]
              - name: merge
                depends_on: [map]
                command: 'cat out-*.txt > all.txt; echo {{ params.label }} >> all.txt; echo merge >> ran.txt'
                outputs: [all.txt]
            """)
        _ = try await workspace.run("fan", jobs: 1)
        try FileManager.default.removeItem(atPath: workspace.path("ran.txt"))
        _ = try await workspace.run("fan", parameters: ["threshold": "2"], jobs: 1)
        #expect(try ran() == ["map", "map"], "the instances read threshold from their environment")
        try FileManager.default.removeItem(atPath: workspace.path("ran.txt"))
        let wider = try await workspace.run("fan", parameters: ["threshold": "2", "samples": "a,b,c"], jobs: 1)
        #expect(try ran() == ["map", "merge"], "only the new instance, and the join over the list")
        #expect(wider.step("map[a]")?.state == .upToDate)
        #expect(try workspace.read("all.txt").split(separator: "\n").count == 4)
    }

}

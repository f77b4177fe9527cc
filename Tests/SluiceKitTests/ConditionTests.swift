import Foundation
import SluiceTestSupport
import Testing

@testable import SluiceKit

/// `if:` conditions: what they mean, and every mistake refused at its place in the file.
struct ConditionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var condition: String
        var holds: Bool
        var testDescription: String { "\(condition) is \(holds)" }
    }

    /// `mode` is `full`, `count` is `12`, `samples` is the list A, B, `check` succeeded.
    static let cases: [Case] = [
        Case(condition: "params.mode == 'full'", holds: true),
        Case(condition: "params.mode != \"full\"", holds: false),
        Case(condition: "params.count > 9", holds: true),
        Case(condition: "params.count < 9.5 or params.count >= 12", holds: true),
        Case(condition: "params.count == '12' and params.count <= 12", holds: true),
        Case(condition: "'B' in params.samples and not 'C' in params.samples", holds: true),
        Case(condition: "'C' not in params.samples", holds: true),
        Case(condition: "params.mode in ['quick', 'full']", holds: true),
        Case(condition: "not (params.mode == 'full' or false)", holds: false),
        Case(condition: "steps.check.state == 'succeeded' and true", holds: true),
        Case(condition: "params.day < '2025-10-01'", holds: true),
        Case(condition: "params.code == '7'", holds: false),
        Case(condition: "params.code == 7", holds: true),
    ]

    @Test(arguments: cases)
    func conditionsMeanWhatTheySay(_ test: Case) throws {
        let condition = try Condition(parsing: test.condition)
        let values: [String: Condition.Value] = [
            "params.mode": .text("full"), "params.count": .text("12"), "params.samples": .list([.text("A"), .text("B")]),
            "steps.check.state": .text("succeeded"), "params.day": .text("2025-09-30"), "params.code": .text("007"),
        ]
        #expect(condition.evaluate { values[$0.joined(separator: ".")] ?? .text("") }.holds == test.holds)
    }

    @Test func mistakesAreRefusedWhereTheyAre() throws {
        let workspace = try TestWorkspace()
        let deep = String(repeating: "(", count: 60) + "true" + String(repeating: ")", count: 60)
        let lists = String(repeating: "[", count: 60)
        let chain = Array(repeating: "true", count: 100_000).joined(separator: " and ")
        try workspace.pipeline(
            "p",
            """
            params:
              mode: {type: string, default: x}
            steps:
              - {name: a, command: "true", if: "params.mdoe == 'x'"}
              - {name: b, command: "true", if: "params.mode = 'x'"}
              - {name: c, command: "true", if: "steps.a.state == 'failed'"}
              - {name: d, command: "true", depends_on: [a], if: "steps.a.outputs.n == 1 or item"}
              - {name: e, command: "true", if: "params.mode == 'x"}
              - {name: f, command: "true", if: "\(deep)"}
              - {name: g, command: "true", if: ""}
              - {name: h, command: "true", if: "'a' in \(lists)"}
              - {name: i, command: "true", if: "\(chain)"}
            """)
        let found = PipelineCatalog.scan(workspace.pipelinesDirectory).entry("p")!.diagnostics.map {
            "\($0.location.line):\($0.location.column): \($0.message)"
        }
        #expect(
            found == [
                "4:37: if: 'params.mdoe' in step 'a' names no parameter of this pipeline",
                "5:49: if: '=' has no meaning in a condition",
                "6:37: if: 'steps.a.state' in step 'c': 'a' is not in its depends_on",
                "7:80: if: 'item' in step 'd': the step has no 'foreach' or 'matrix'",
                "8:52: if: the quote is not closed",
                "9:88: if: the condition nests more than 50 deep",
                "10:37: if: the condition is empty",
                "11:95: if: the condition nests more than 50 deep",
                "12:37: if: the condition has more than 500 words and symbols",
            ])
    }
}

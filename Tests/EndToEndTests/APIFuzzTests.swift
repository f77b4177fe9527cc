import Foundation
import SluiceTestSupport
import Testing

/// Property-based testing of the API from its own OpenAPI document: schemathesis (installed by `scripts/test.sh`)
/// generates requests, valid and not, against a live `sluice serve` with a token, and checks every answer: no
/// 5xx, status codes, content types, headers and bodies as their component schemas say (every check, response
/// conformance included), 401 without the token, 405 for other methods, invalid requests refused.
/// `/api/events` is a WebSocket, which OpenAPI cannot describe; ``EventsTests`` covers it.
@Suite(.serialized)
struct APIFuzzTests {
    static let schemathesis =
        ProcessInfo.processInfo.environment["SLUICE_SCHEMATHESIS"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/tools/venv/bin/schemathesis").path

    @Test func schemathesisFindsNoServerErrorAndNoDeviationFromTheDocument() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.schemathesis) else {
            throw TestFailure("schemathesis is not at \(Self.schemathesis): scripts/test.sh installs it (or set SLUICE_SCHEMATHESIS)")
        }
        let workspace = try TestWorkspace()
        try workspace.pipeline(
            "p",
            """
            params:
              day: {type: date, default: "2025-01-01"}
              rows: {type: int, default: "5", min: 1, max: 100}
            steps:
              - {name: a, command: 'echo "$DAY" > "$SLUICE_OUTPUTS_DIR/day.txt"'}
            """)
        // A run whose status, steps, attempts and resources the generated requests read.
        let run = try await SluiceBinary.run(["run", "p"], in: workspace.root)
        let id = try #require(run.stdout.split(separator: " ").dropFirst().first.map(String.init), "\(run.stdout)")
        // Names that exist, so that generated requests reach past 404 (schemathesis reads this file from its folder).
        // A backfill's dates are checked beyond what a schema says (from before to, and `p` has no date template), and
        // a run's mode and parameters against the pipeline, so well-formed requests of these are refused with 422.
        try workspace.write(
            "schemathesis.toml",
            """
            [parameters]
            pipeline = "p"
            step = "a"
            run = "\(id)"

            [[operations]]
            include-path-regex = "^/api/pipelines/\\\\{pipeline\\\\}/(backfill|runs|steps/\\\\{step\\\\}/run)$"
            checks.positive_data_acceptance.expected-statuses = ["2xx", "404", "422"]
            """)
        let server = try SluiceBinary.start(["serve", "--port", "0", "--token", "fuzz-token"], in: workspace.root)
        defer { kill(server.process.processIdentifier, SIGKILL) }
        let address = try #require(String(decoding: server.stdout.availableData, as: UTF8.self).split(separator: " ").last)
            .trimmingCharacters(in: .whitespacesAndNewlines)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.schemathesis)
        process.arguments = [
            "run", address + "/api/openapi.json", "-H", "Authorization: Bearer fuzz-token", "--checks", "all", "--max-examples", "15",
            "--request-timeout", "10", "--exclude-path", "/api/events", "--no-color",
        ]
        process.currentDirectoryURL = URL(fileURLWithPath: workspace.root)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let summary = report.split(separator: "\n").last { $0.contains("generated") } ?? "no summary"
        print("schemathesis: \(summary.trimmingCharacters(in: .whitespaces))")
        #expect(process.terminationStatus == 0, "\(report.suffix(4000))")
        #expect(!report.contains("Server error"))
    }
}

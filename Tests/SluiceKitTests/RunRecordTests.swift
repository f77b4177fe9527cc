import Foundation
import GRDB
import SluiceTestSupport
import Testing

@testable import SluiceKit

/// What a run leaves behind: its directory (seed 000's layout), its environment, the store and the status file.
struct RunRecordTests {
    let workspace: TestWorkspace

    init() throws {
        workspace = try TestWorkspace()
        try workspace.pipeline(
            "report",
            """
            params:
              app_filter: {type: string, required: true}
              date_start: {type: date, default: "2025-09-15"}
            env: {REGION: eu-west}
            steps:
              - name: collect
                script: collect.py
              - name: publish
                command: echo "published $APP_FILTER" && echo oops >&2
                depends_on: [collect]
                env: {CHANNEL: "#data"}
              - name: quiet
                command: 'true'
            """)
        try workspace.script(
            "report", "collect.py",
            """
            import json, os
            keys = ["SLUICE_RUN_ID", "SLUICE_PIPELINE", "SLUICE_STEP", "SLUICE_RUN_DIR", "SLUICE_OUTPUTS_DIR",
                    "SLUICE_WORKING_DIR", "APP_FILTER", "DATE_START", "REGION"]
            seen = {key: os.environ.get(key) for key in keys}
            seen["cwd"] = os.getcwd()
            with open(os.path.join(os.environ["SLUICE_OUTPUTS_DIR"], "env.json"), "w") as f:
                json.dump(seen, f)
            print("collected")
            """)
    }

    @Test func runDirectoryHasTheSeedLayout() async throws {
        let outcome = try await workspace.run("report", parameters: ["app_filter": "com.example"])
        #expect(outcome.run.status == .success)
        let directory = outcome.run.runDirectory
        #expect(directory == workspace.path("runs/\(outcome.run.id)"))
        for folder in ["outputs", "working", "logs"] { #expect(workspace.exists("\(directory)/\(folder)")) }
        #expect(try workspace.read("\(directory)/logs/collect.log") == "collected\n")
        #expect(try workspace.read("\(directory)/logs/publish.log") == "published com.example\noops\n")
        // A step that printed nothing has no log file.
        #expect(!workspace.exists("\(directory)/logs/quiet.log"))

        let environment = try workspace.read("\(directory)/.env")
        #expect(environment.contains("SLUICE_RUN_ID=\(outcome.run.id)\n"))
        #expect(environment.contains("APP_FILTER=com.example\n"))
        #expect(environment.contains("DATE_START=2025-09-15\n"))
        #expect(environment.contains("REGION=eu-west\n"))

        let runLog = try workspace.read("\(directory)/run.log").split(separator: "\n").map { $0.split(separator: " ", maxSplits: 1)[1] }
        #expect(runLog.first == "RUN START \(outcome.run.id) pipeline=report steps=3")
        #expect(runLog.contains { $0.hasPrefix("STEP START collect attempt=1 pid=") })
        #expect(runLog.contains { $0.hasPrefix("STEP DONE publish attempt=1 state=succeeded duration=") })
        #expect(runLog.last == "RUN FINISH \(outcome.run.id) status=success")
    }

    @Test func stepsSeeTheRunParametersAndTheirOwnName() async throws {
        let outcome = try await workspace.run("report", parameters: ["app_filter": "com.example"])
        let seen =
            try JSONSerialization.jsonObject(with: Data(try workspace.read("\(outcome.run.runDirectory)/outputs/env.json").utf8)) as! [String: String]
        #expect(seen["SLUICE_RUN_ID"] == outcome.run.id)
        #expect(seen["SLUICE_PIPELINE"] == "report")
        #expect(seen["SLUICE_STEP"] == "collect")
        #expect(seen["SLUICE_OUTPUTS_DIR"] == "\(outcome.run.runDirectory)/outputs")
        #expect(seen["APP_FILTER"] == "com.example")
        #expect(seen["DATE_START"] == "2025-09-15")
        #expect(seen["REGION"] == "eu-west")
        #expect(seen["cwd"] == workspace.root)
    }

    @Test func summaryMatchesTheStore() async throws {
        let outcome = try await workspace.run("report", parameters: ["app_filter": "com.example"])
        let summary =
            try JSONSerialization.jsonObject(with: Data(try workspace.read("\(outcome.run.runDirectory)/summary.json").utf8)) as! [String: Any]
        #expect(summary["run_id"] as? String == outcome.run.id)
        #expect(summary["status"] as? String == "success")
        #expect(summary["counts"] as? [String: Int] == ["succeeded": 3])
        let steps = try #require(summary["steps"] as? [[String: Any]])
        #expect(steps.map { $0["name"] as? String } == ["collect", "publish", "quiet"])
        #expect(steps.map { $0["log"] as? String } == ["logs/collect.log", "logs/publish.log", nil])
        #expect(steps.allSatisfy { ($0["duration_seconds"] as? Double ?? -1) >= 0 })
    }

    @Test func summaryIsValidJSONWhateverItsValuesHold() async throws {
        let odd = "quote \" backslash \\ newline\n tab\t bell\u{07} é 🚀 </script>"
        let outcome = try await workspace.run("report", parameters: ["app_filter": odd])
        let summary =
            try JSONSerialization.jsonObject(with: Data(try workspace.read("\(outcome.run.runDirectory)/summary.json").utf8)) as! [String: Any]
        #expect((summary["parameters"] as? [String: String])?["app_filter"] == odd)
        #expect((summary["selection"] as? [String: Any])?["steps"] as? [String] == [])
        #expect(summary["finished_at"] as? String == outcome.run.finishedAt.map(Timestamp.iso))
        let steps = try #require(summary["steps"] as? [[String: Any]])
        #expect(steps.map { $0["exit_code"] as? Int } == [0, 0, 0])
        #expect(steps.allSatisfy { $0["error"] == nil && $0["reason"] == nil }, "absent values are left out, as before")
    }

    @Test func everyStateChangeIsInTheStoreInOrder() async throws {
        let outcome = try await workspace.run("report", parameters: ["app_filter": "x"], jobs: 1)
        let events = try await workspace.store().events(runID: outcome.run.id, after: 0)
        #expect(events.first?.kind == "run_started")
        #expect(events.suffix(2).map(\.kind) == ["run_finished", "reports_written"], "the reports are written after the end is recorded")
        #expect(events.map(\.seq) == events.map(\.seq).sorted())
        for step in ["collect", "publish", "quiet"] {
            #expect(events.filter { $0.step == step }.map(\.kind) == ["attempt_started", "attempt_finished", "step_finished"])
        }
        let runs = try await workspace.store().runs(pipeline: "report", limit: 10, offset: 0)
        #expect(runs.map(\.id) == [outcome.run.id])
        #expect(runs[0].parameters == ["app_filter": "x", "date_start": "2025-09-15"])
    }

    @Test func statusFileFollowsTheStoreAndTestedMarks() async throws {
        try workspace.pipeline(
            "flaky",
            """
            steps:
              - {name: good, command: 'true'}
              - {name: bad, command: 'exit 4'}
              - {name: never, command: 'true', depends_on: [bad]}
            """)
        let outcome = try await workspace.run("flaky", jobs: 1)
        let store = try workspace.store()
        try await store.setTested(pipeline: "flaky", step: "good", tested: true)
        try await StatusFile.refresh(workspace.load("flaky"), from: store, pipelinesDirectory: workspace.pipelinesDirectory)

        let text = try workspace.read("pipelines/.flaky.status.json")
        let status = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: [String: Any]]
        #expect(status["good"]?["completed"] as? Bool == true)
        #expect(status["good"]?["tested"] as? Bool == true)
        #expect(status["bad"]?["completed"] as? Bool == false)
        #expect(status["bad"]?["error"] as? String == "exited with status 4")
        #expect(status["never"]?["last_run"] is NSNull)
        let lastRun = try #require(status["good"]?["last_run"] as? String)
        #expect(lastRun.hasPrefix(String(Timestamp.iso(outcome.run.createdAt).prefix(10))))
        // Steps appear in pipeline order, as seed 002's example shows them.
        #expect(text.range(of: "\"good\"")!.lowerBound < text.range(of: "\"bad\"")!.lowerBound)
    }

    @Test func runIdsAreShortAndUnique() async throws {
        try workspace.pipeline("tiny", "steps:\n  - {name: a, command: 'true'}\n")
        var ids = Set<String>()
        for _ in 0..<20 { ids.insert(try await workspace.run("tiny").run.id) }
        #expect(ids.count == 20)
        #expect(ids.allSatisfy { $0.count == 6 })
    }
}

extension RunRecordTests {
    @Test func everyTimeInTheStoreIsSecondsSince1970() async throws {
        let outcome = try await workspace.run("report", parameters: ["app_filter": "x"])
        let store = try workspace.store()
        let types = try await store.pool.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT typeof(createdat) || typeof(finishedat) FROM runs
                    UNION SELECT typeof(startedat) || typeof(finishedat) FROM step_runs WHERE runid = ?
                    UNION SELECT typeof(at) FROM events WHERE runid = ?
                    """, arguments: [outcome.run.id, outcome.run.id])
        }
        #expect(Set(types) == ["realreal", "real"])
    }
}

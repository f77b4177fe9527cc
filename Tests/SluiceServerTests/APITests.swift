import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SluiceKit
import SluiceServer
import SluiceTestSupport
import Testing

/// The REST API, each test through Hummingbird's router test client and again against a live server on 127.0.0.1.
struct APITests {
    let harness: ServerHarness
    var workspace: TestWorkspace { harness.workspace }

    init() throws {
        harness = try ServerHarness()
        try workspace.pipeline(
            "sales",
            """
            description: Daily sales
            params:
              day: {type: date, default: "2026-11-01"}
              rows: {type: int, default: "3"}
            steps:
              - {name: extract, command: 'mkdir -p "$SLUICE_OUTPUTS_DIR/tables" && echo "day=$DAY rows=$ROWS" | tee "$SLUICE_OUTPUTS_DIR/tables/sales.csv" && echo "rows=$ROWS" >> "$SLUICE_OUTPUT"'}
              - {name: report, command: 'echo report', depends_on: [extract]}
            """)
    }

    @Test func healthAndPipelinesOverALiveServer() async throws {
        try await harness.test(.live) { client in
            let health = try await client.send(.get, "/api/health")
            #expect(health.status == .ok)
            #expect(health.object["status"] as? String == "ok")
            let list = try await client.send(.get, "/api/pipelines")
            #expect(list.array.map { $0["id"] as? String } == ["sales"])
            #expect(list.array.first?["description"] as? String == "Daily sales")
        }
    }

    @Test(arguments: HTTPSetup.both) func theConfigurationShowsSettingsButNotWebhookSecrets(_ setup: HTTPSetup) async throws {
        try workspace.write("sluice.yaml", "jobs: 3\nnotify:\n  - webhook: https://hooks.example.com/T0KEN/abc?key=s3cret\n")
        let harness = try ServerHarness(workspace: workspace)
        try await harness.test(setup.value) { client in
            let config = try await client.send(.get, "/api/config")
            let settings = try #require(config.object["settings"] as? [[String: Any]])
            #expect(settings.first { $0["key"] as? String == "jobs" }?["value"] as? String == "3")
            #expect(settings.first { $0["key"] as? String == "jobs" }?["source"] as? String == "config file \(workspace.path("sluice.yaml"))")
            #expect(config.object["notify"] as? [String] == ["webhook https://hooks.example.com/…"])
            #expect(!config.text.contains("s3cret") && !config.text.contains("T0KEN"))
        }
    }

    @Test(arguments: HTTPSetup.both) func aPipelineDetailHasStepsParametersAndGraph(_ setup: HTTPSetup) async throws {
        try await harness.test(setup.value) { client in
            let detail = try await client.send(.get, "/api/pipelines/sales").object
            #expect((detail["steps"] as? [[String: Any]])?.map { $0["name"] as? String } == ["extract", "report"])
            #expect((detail["parameters"] as? [[String: Any]])?.map { $0["type"] as? String } == ["date", "int"])
            #expect(detail["edges"] as? [[String]] == [["extract", "report"]])
            let missing = try await client.send(.get, "/api/pipelines/nope")
            #expect(missing.status == .notFound)
            #expect(missing.message == "no pipeline 'nope'")
        }
    }

    @Test(arguments: HTTPSetup.both) func aRunStartedOverTheAPIRunsAndServesItsLogAndOutputs(_ setup: HTTPSetup) async throws {
        try await harness.test(setup.value) { client in
            let started = try await client.send(.post, "/api/pipelines/sales/runs", #"{"params": {"day": "2026-11-20", "rows": 7}}"#)
            #expect(started.status == .accepted)
            let id = try #require(started.object["id"] as? String)
            #expect(started.headers[.location] == "/api/runs/\(id)")
            let finished = try await client.finishedRun(id)
            #expect((finished["run"] as? [String: Any])?["status"] as? String == "success")
            #expect((finished["run"] as? [String: Any])?["trigger"] as? String == "api")
            #expect((finished["steps"] as? [[String: Any]])?.map { $0["state"] as? String } == ["succeeded", "succeeded"])

            let log = try await client.send(.get, "/api/runs/\(id)/steps/extract/log")
            #expect(log.text == "day=2026-11-20 rows=7\n")
            #expect(log.headers[HTTPField.Name("X-Log-Size")!] == "22")
            #expect(try await client.send(.get, "/api/runs/\(id)/steps/extract/log?offset=4&limit=10").text == "2026-11-20")

            let outputs = try await client.send(.get, "/api/runs/\(id)/outputs")
            #expect(outputs.array.map { $0["path"] as? String } == ["tables/sales.csv"])
            let file = try await client.send(.get, "/api/runs/\(id)/outputs/tables/sales.csv")
            #expect(file.status == .ok)
            #expect(file.text == "day=2026-11-20 rows=7\n")
            #expect(file.headers[.contentDisposition] == "attachment; filename=\"sales.csv\"; filename*=UTF-8''sales.csv")
            let viewed = try await client.send(.get, "/api/runs/\(id)/outputs/tables/sales.csv?view=true")
            #expect(viewed.headers[.contentType] == "text/plain; charset=utf-8" && viewed.headers[.contentSecurityPolicy] == "sandbox")

            let report = try await client.send(.get, "/api/runs/\(id)/report")
            #expect(report.headers[.contentType] == "text/html; charset=utf-8")
            #expect(report.text.contains("<svg class=\"timeline\""))
            #expect(report.text.contains("<a href=\"outputs/tables/sales.csv\">"))
            #expect(!report.text.contains("http://") && !report.text.contains("https://"), "no external assets")

            let metrics = try await client.send(.get, "/metrics").text
            #expect(metrics.contains("sluice_runs{status=\"success\"} 1\n"))
            #expect(metrics.contains("sluice_step_runs{state=\"succeeded\"} 2\n"))
            #expect(metrics.contains("sluice_step_duration_seconds_count 2\n"))

            let listed = try await client.send(.get, "/api/runs?pipeline=sales&status=success&limit=5")
            #expect(listed.array.map { $0["id"] as? String } == [id])
            #expect(try await client.send(.get, "/api/runs?status=failed").array.isEmpty)
        }
    }

    @Test func followingALogStreamsItUntilTheStepEnds() async throws {
        try workspace.pipeline(
            "chatty",
            """
            steps:
              - {name: talk, command: 'echo one; for i in $(seq 600); do test -f go && break; sleep 0.05; done; echo two'}
            """)
        try await harness.test(.live) { client in
            let id = try #require(try await client.send(.post, "/api/pipelines/chatty/runs").object["id"] as? String)
            let follower = Task { try await client.send(.get, "/api/runs/\(id)/steps/talk/log?follow=true") }
            let log = workspace.path("runs/\(id)/logs/talk.log")
            #expect(await waitUntil { ((try? workspace.read(log)) ?? "") == "one\n" })
            try workspace.write("go", "")
            let followed = try await follower.value
            #expect(followed.status == .ok)
            #expect(followed.text == "one\ntwo\n", "what the step printed after the request began arrives too")
        }
    }

    @Test(arguments: HTTPSetup.both) func aSingleStepRunsOnItsOwn(_ setup: HTTPSetup) async throws {
        try await harness.test(setup.value) { client in
            let started = try await client.send(.post, "/api/pipelines/sales/steps/report/run")
            #expect(started.status == .accepted)
            let finished = try await client.finishedRun(try #require(started.object["id"] as? String))
            #expect((finished["steps"] as? [[String: Any]])?.map { $0["step"] as? String } == ["report"])
        }
    }

    @Test(arguments: HTTPSetup.both) func badRequestsGetAClearFourHundredNeverAFiveHundred(_ setup: HTTPSetup) async throws {
        try await harness.test(setup.value) { client in
            let parameters = try await client.send(.post, "/api/pipelines/sales/runs", #"{"params": {"day": "2026-02-30", "rows": "many"}}"#)
            #expect(parameters.status == .unprocessableContent)
            let fields = try #require(parameters.object["fields"] as? [String: String])
            #expect(fields.keys.sorted() == ["params.day", "params.rows"])

            let malformed = try await client.send(.post, "/api/pipelines/sales/runs", "{not json")
            #expect(malformed.status == .badRequest)
            #expect(malformed.message.hasPrefix("invalid JSON body"))
            let wrongType = try await client.send(.post, "/api/pipelines/sales/runs", #"{"only": "extract"}"#)
            #expect(wrongType.status == .badRequest)
            #expect(wrongType.message.contains("at 'only'"))
            let unknownStep = try await client.send(.post, "/api/pipelines/sales/runs", #"{"only": ["extrac"]}"#)
            #expect(unknownStep.status == .unprocessableContent)
            #expect((unknownStep.object["fields"] as? [String: String])?["selection"]?.contains("extract") == true)

            #expect(try await client.send(.get, "/api/runs/nope").status == .notFound)
            #expect(try await client.send(.post, "/api/runs/nope/cancel").status == .notFound)
            #expect(try await client.send(.get, "/api/runs?limit=0").status == .badRequest)
            #expect(try await client.send(.get, "/api/runs?status=great").status == .badRequest)

            // Unknown paths and methods get JSON errors that say so; bodies past 2 MiB are refused.
            let nowhere = try await client.send(.get, "/api/nothing/here")
            #expect(nowhere.status == .notFound && nowhere.message.contains("/api/openapi.json"))
            let traced = try await client.send(.trace, "/api/runs")
            #expect(traced.status == .methodNotAllowed && traced.headers[.allow] == "GET")
            let huge = try await client.send(
                .post, "/api/pipelines/sales/runs", #"{"params": {"day": ""# + String(repeating: "9", count: 3 << 20) + #""}}"#)
            #expect(huge.status == .contentTooLarge)
            #expect(huge.message == "the body is larger than 2 MiB", "errors are JSON, this one too")
            #expect(try await client.send(.get, "/api/events").status == .upgradeRequired)
            let noSuchStep = try await client.send(.post, "/api/pipelines/sales/steps/nope/run", "{}")
            #expect(noSuchStep.status == .notFound && noSuchStep.message.contains("no step 'nope'"))
        }
    }

    @Test(arguments: HTTPSetup.both) func outputDownloadsCannotLeaveTheOutputsFolder(_ setup: HTTPSetup) async throws {
        try workspace.write("secret.txt", "top secret\n")
        try await harness.test(setup.value) { client in
            let started = try await client.send(.post, "/api/pipelines/sales/runs")
            let id = try #require(started.object["id"] as? String)
            let run = try #require(try await client.finishedRun(id)["run"] as? [String: Any])
            let outputs = try #require(run["runDirectory"] as? String) + "/outputs"
            try FileManager.default.createSymbolicLink(atPath: outputs + "/escape", withDestinationPath: workspace.path("secret.txt"))
            try FileManager.default.createSymbolicLink(atPath: outputs + "/up", withDestinationPath: workspace.root)
            for attempt in [
                "../summary.json", "..%2Fsummary.json", "tables/..%2F..%2Fsummary.json", "%2Fetc%2Fpasswd", "escape",
                "up/secret.txt", "tables/../../summary.json", "tables", "%00",
            ] {
                let reply = try await client.send(.get, "/api/runs/\(id)/outputs/\(attempt)")
                #expect(reply.status == .notFound || reply.status == .badRequest, "\(attempt) gave \(reply.status)")
                #expect(!reply.text.contains("top secret") && !reply.text.contains("run_id"), "\(attempt) leaked a file")
            }
        }
    }

    @Test(arguments: HTTPSetup.both) func aLargeOutputDownloadsWhole(_ setup: HTTPSetup) async throws {
        try await harness.test(setup.value) { client in
            let id = try #require(try await client.send(.post, "/api/pipelines/sales/runs").object["id"] as? String)
            let run = try #require(try await client.finishedRun(id)["run"] as? [String: Any])
            // 20 MB of a 251-byte pattern, which no chunk size divides: a chunk dropped, repeated or reordered shows.
            let unit = Data((0..<251).map { UInt8($0) })
            var data = Data(capacity: 251 * 80_000)
            for _ in 0..<80_000 { data.append(unit) }
            try data.write(to: URL(fileURLWithPath: try #require(run["runDirectory"] as? String) + "/outputs/big.bin"))
            let reply = try await client.send(.get, "/api/runs/\(id)/outputs/big.bin")
            #expect(reply.status == .ok && reply.headers[.contentLength] == String(data.count))
            #expect(reply.data == data, "every byte, in order")
        }
    }

    @Test(arguments: HTTPSetup.both) func markingTestedUpdatesTheStatusFile(_ setup: HTTPSetup) async throws {
        try await harness.test(setup.value) { client in
            let marked = try await client.send(.put, "/api/pipelines/sales/steps/extract/tested", #"{"tested": true}"#)
            #expect(marked.status == .ok)
            #expect(marked.object["tested"] as? Bool == true)
            #expect(try workspace.read("pipelines/.sales.status.json").contains("\"tested\": true"))
            #expect(try await client.send(.put, "/api/pipelines/sales/steps/nope/tested", #"{"tested": true}"#).status == .notFound)
        }
    }

    @Test(arguments: HTTPSetup.both) func aRunningRunCanBeCancelled(_ setup: HTTPSetup) async throws {
        try workspace.pipeline("slow", "steps:\n  - {name: wait, command: sleep 30}\n  - {name: after, command: 'true', depends_on: [wait]}\n")
        try await harness.test(setup.value) { client in
            let id = try #require(try await client.send(.post, "/api/pipelines/slow/runs").object["id"] as? String)
            #expect(try await client.send(.post, "/api/runs/\(id)/cancel").status == .accepted)
            let finished = try await client.finishedRun(id)
            #expect((finished["run"] as? [String: Any])?["status"] as? String == "cancelled")
            #expect(try await client.send(.post, "/api/runs/\(id)/cancel").status == .conflict)
        }
    }

    /// With a shared store, the pid recorded for a run of another host means nothing here, even when a Sluice process
    /// of this host has it: the request goes through the store, for the owner to see.
    @Test func cancellingARunOwnedOnAnotherHostSignalsNoProcessHere() async throws {
        let other = try TestWorkspace()
        try other.pipeline("hold", "steps:\n  - {name: wait, command: 'touch started; until test -f release; do sleep 0.01; done'}\n")
        let local = try SluiceBinary.start(["run", "hold"], in: other.root)
        #expect(await eventually { other.exists("started") })
        let run = try await workspace.store().createRun(
            NewRun(
                pipeline: "sales", trigger: "api", runsDirectory: workspace.runsDirectory,
                steps: ["extract"]))
        _ = try Python.sqlite(workspace.storePath, "UPDATE runs SET ownerhost = 'elsewhere', ownerpid = \(local.process.processIdentifier)")
        try await harness.test(.router) { client in
            let reply = try await client.send(.post, "/api/runs/\(run.id)/cancel")
            #expect(reply.status == .accepted, "\(reply.text)")
        }
        try other.write("release", "")
        local.process.waitUntilExit()
        #expect(local.process.terminationStatus == 0, "the Sluice process of this host was not signalled: its run succeeded")
        #expect(try Python.sqlite(workspace.storePath, "SELECT cancelrequestedat IS NOT NULL FROM runs") == "1")
    }

    /// Three steps; the middle one fails until the file `fixed` exists. Every step appends its name to ran.txt.
    private func flakyPipeline() throws {
        try workspace.pipeline(
            "flaky",
            """
            steps:
              - {name: good, command: 'echo good >> ran.txt'}
              - {name: flaky, command: 'echo flaky >> ran.txt; test -f fixed', depends_on: [good]}
              - {name: after, command: 'echo after >> ran.txt', depends_on: [flaky]}
            """)
    }

    @Test(arguments: HTTPSetup.both) func aRetryRunsOnlyWhatDidNotSucceed(_ setup: HTTPSetup) async throws {
        try flakyPipeline()
        try await harness.test(setup.value) { client in
            let first = try #require(try await client.send(.post, "/api/pipelines/flaky/runs").object["id"] as? String)
            #expect((try await client.finishedRun(first)["run"] as? [String: Any])?["status"] as? String == "failed")
            try workspace.write("fixed", "")
            let retry = try await client.send(.post, "/api/runs/\(first)/retry")
            #expect(retry.status == .accepted)
            #expect(retry.object["trigger"] as? String == "retry:\(first)")
            let second = try await client.finishedRun(try #require(retry.object["id"] as? String))
            #expect((second["run"] as? [String: Any])?["status"] as? String == "success")
            #expect(try workspace.read("ran.txt") == "good\nflaky\nflaky\nafter\n", "the step that succeeded is not run again")
            let again = try await client.send(.post, "/api/runs/\(try #require(retry.object["id"] as? String))/retry")
            #expect(again.status == .conflict)
        }
    }

    @Test(arguments: HTTPSetup.both) func aRetryCanChangeParametersAndItsFailedRunsNotificationIsServed(_ setup: HTTPSetup) async throws {
        try workspace.pipeline(
            "mood",
            """
            params: {mood: {type: choice, choices: [bad, good], default: bad}, size: {type: int, default: "2"}}
            steps:
              - {name: s, command: 'echo "$MOOD $SIZE"; test "$MOOD" = good'}
            """)
        try await harness.test(setup.value) { client in
            let first = try #require(try await client.send(.post, "/api/pipelines/mood/runs").object["id"] as? String)
            #expect((try await client.finishedRun(first)["run"] as? [String: Any])?["status"] as? String == "failed")
            // Written a moment after the run's end is recorded (the `reports_written` event says when).
            #expect(try await eventually { !(try await client.send(.get, "/api/runs/\(first)/notifications").array.isEmpty) })
            let notes = try await client.send(.get, "/api/runs/\(first)/notifications")
            #expect(notes.status == .ok)
            #expect(notes.array.count == 1 && (notes.array.first?["text"] as? String)?.contains("mood") == true, "\(notes.array)")
            #expect((notes.array.first?["file"] as? String)?.hasPrefix("manual_review_") == true)

            let refused = try await client.send(.post, "/api/runs/\(first)/retry", #"{"params": {"mood": "great"}}"#)
            #expect(refused.status == .unprocessableContent, "a value the pipeline refuses: \(refused.object)")
            let retry = try await client.send(.post, "/api/runs/\(first)/retry", #"{"params": {"mood": "good"}}"#)
            #expect(retry.status == .accepted)
            let second = try await client.finishedRun(try #require(retry.object["id"] as? String))
            let run = try #require(second["run"] as? [String: Any])
            #expect(run["status"] as? String == "success")
            #expect(run["parameters"] as? [String: String] == ["mood": "good", "size": "2"], "changed one, kept the other")
            #expect(try await client.send(.get, "/api/runs/\(run["id"] as? String ?? "")/notifications").array.isEmpty)
        }
    }

    @Test(arguments: HTTPSetup.both) func runsAreFilteredByPipelineStatusAndTriggerAndPagedWithATotal(_ setup: HTTPSetup) async throws {
        try flakyPipeline()
        try await harness.test(setup.value) { client in
            for _ in 0..<3 {
                _ = try await client.finishedRun(try #require(try await client.send(.post, "/api/pipelines/sales/runs").object["id"] as? String))
            }
            let failed = try #require(try await client.send(.post, "/api/pipelines/flaky/runs").object["id"] as? String)
            _ = try await client.finishedRun(failed)
            try workspace.write("fixed", "")
            _ = try await client.finishedRun(try #require(try await client.send(.post, "/api/runs/\(failed)/retry").object["id"] as? String))

            let page = try await client.send(.get, "/api/runs?limit=2&offset=2")
            #expect(page.array.count == 2 && page.headers[HTTPField.Name("X-Total-Count")!] == "5")
            let sales = try await client.send(.get, "/api/runs?pipeline=sales&limit=2")
            #expect(sales.array.count == 2 && sales.headers[HTTPField.Name("X-Total-Count")!] == "3")
            let retries = try await client.send(.get, "/api/runs?trigger=retry")
            #expect(retries.array.map { $0["trigger"] as? String } == ["retry:\(failed)"], "retry takes in retry:ID")
            #expect(retries.headers[HTTPField.Name("X-Total-Count")!] == "1")
            let failures = try await client.send(.get, "/api/runs?status=failed&trigger=api")
            #expect(failures.array.map { $0["id"] as? String } == [failed])
            // Wildcards of SQL's LIKE are taken literally.
            #expect(try await client.send(.get, "/api/runs?trigger=%25").array.isEmpty)
            #expect(try await client.send(.get, "/api/runs?trigger=re_ry").array.isEmpty)
            let blank = try await client.send(.get, "/api/runs?pipeline=&trigger=%20")
            #expect(blank.headers[HTTPField.Name("X-Total-Count")!] == "5", "an empty filter is no filter")
            let past = try await client.send(.get, "/api/runs?offset=50")
            #expect(past.array.isEmpty && past.headers[HTTPField.Name("X-Total-Count")!] == "5")
        }
    }

    @Test(arguments: HTTPSetup.both) func aResumeContinuesTheSameRunWithOnlyWhatDidNotSucceed(_ setup: HTTPSetup) async throws {
        try flakyPipeline()
        try await harness.test(setup.value) { client in
            let id = try #require(try await client.send(.post, "/api/pipelines/flaky/runs").object["id"] as? String)
            #expect((try await client.finishedRun(id)["run"] as? [String: Any])?["status"] as? String == "failed")
            try workspace.write("fixed", "")
            let resumed = try await client.send(.post, "/api/runs/\(id)/resume")
            #expect(resumed.status == .accepted && resumed.object["id"] as? String == id)
            let finished = try await client.finishedRun(id)
            #expect((finished["run"] as? [String: Any])?["status"] as? String == "success")
            #expect(try workspace.read("ran.txt") == "good\nflaky\nflaky\nafter\n", "the step that succeeded is not run again")
            let attempts = (finished["attempts"] as? [[String: Any]])?.filter { $0["step"] as? String == "flaky" }.map { $0["attempt"] as? Int }
            #expect(attempts == [1, 2], "the resumed attempt is numbered after the first")
            #expect(try await client.send(.post, "/api/runs/\(id)/resume").status == .conflict, "nothing left to resume")
        }
    }

    @Test(arguments: HTTPSetup.both) func aSecondRunOfARejectingPipelineGetsAConflict(_ setup: HTTPSetup) async throws {
        try workspace.pipeline(
            "single",
            """
            concurrency: reject
            steps:
              - {name: hold, command: 'until test -f release; do sleep 0.01; done'}
            """)
        try await harness.test(setup.value) { client in
            let first = try #require(try await client.send(.post, "/api/pipelines/single/runs").object["id"] as? String)
            let second = try await client.send(.post, "/api/pipelines/single/runs")
            #expect(second.status == .conflict && second.message.contains("run \(first) is running"))
            try workspace.write("release", "")
            #expect((try await client.finishedRun(first)["run"] as? [String: Any])?["status"] as? String == "success")
        }
    }

    @Test(arguments: HTTPSetup.both) func aParentRunLinksToItsChildRunsAndTheyToItAndParameterFilesStayInTheWorkspace(
        _ setup: HTTPSetup
    ) async throws {
        try workspace.pipeline(
            "daily",
            """
            params: {day: {type: date, default: "2026-11-02"}}
            steps:
              - {name: load_sales, pipeline: sales, params: {day: "{{ params.day }}", rows: "5"}}
              - {name: after, depends_on: [load_sales], command: 'echo "rows=$ROWS_SEEN"', env: {ROWS_SEEN: "{{ steps.load_sales.outputs.rows }}"}}
            """)
        _ = try workspace.write("conf/days.yaml", "day: 2026-11-30\n")
        try await harness.test(setup.value) { client in
            let started = try await client.send(.post, "/api/pipelines/daily/runs", #"{"paramsFiles": ["conf/days.yaml"]}"#)
            #expect(started.status == .accepted, "\(started.object)")
            let id = try #require(started.object["id"] as? String)
            let parent = try await client.finishedRun(id)
            #expect((parent["run"] as? [String: Any])?["status"] as? String == "success", "\(parent)")
            #expect((parent["run"] as? [String: Any])?["parameters"] as? [String: String] == ["day": "2026-11-30"])
            let children = try #require(parent["children"] as? [[String: Any]])
            #expect(children.count == 1 && children.first?["step"] as? String == "load_sales" && children.first?["status"] as? String == "success")
            let childID = try #require(children.first?["id"] as? String)
            let child = try await client.send(.get, "/api/runs/\(childID)").object
            #expect(child["parent"] as? [String: String] == ["run": id, "step": "load_sales"])
            #expect((child["run"] as? [String: Any])?["parameters"] as? [String: String] == ["day": "2026-11-30", "rows": "5"])
            #expect(try await client.send(.get, "/api/runs/\(id)/steps/after/log").text == "rows=5\n")
            let listed = try await client.send(.get, "/api/runs?trigger=parent:\(id)")
            #expect(listed.array.map { $0["id"] as? String } == [childID], "\(listed.text)")

            // A file outside the workspace, however named, is refused before anything is recorded.
            for path in ["../outside.yaml", "/etc/hostname", "conf/../../x.yaml", "conf//missing.yaml", "", "conf"] {
                let refused = try await client.send(.post, "/api/pipelines/daily/runs", #"{"paramsFiles": [\#(JSONText.string(path))]}"#)
                #expect(refused.status == .unprocessableContent, "\(path): \(refused.object)")
            }
            let missing = try await client.send(.post, "/api/pipelines/daily/runs", #"{"paramsFiles": ["conf/nothere.yaml"]}"#)
            #expect(missing.text.contains("is no file of the workspace (it is missing, or leads out of it)"), "\(missing.text)")
        }
        #expect(try await workspace.store().countRuns(RunFilter(pipeline: "daily")) == 1, "the refused requests recorded nothing")
    }

    @Test(arguments: HTTPSetup.both) func aRunExportsAsJSONCSVAndAWorkbook(_ setup: HTTPSetup) async throws {
        try await harness.test(setup.value) { client in
            let id = try #require(try await client.send(.post, "/api/pipelines/sales/runs").object["id"] as? String)
            _ = try await client.finishedRun(id)
            let json = try await client.send(.get, "/api/runs/\(id)/export?format=json")
            #expect((json.object["steps"] as? [[String: Any]])?.count == 2)
            #expect((json.object["steps"] as? [[String: Any]])?.first?["outputValues"] as? [String: String] == ["rows": "3"])
            #expect((json.object["attempts"] as? [[String: Any]])?.count == 2)
            let csv = try await client.send(.get, "/api/runs/\(id)/export?format=csv")
            #expect(
                csv.text.split(separator: "\r\n").map { $0.split(separator: ",").prefix(2).joined(separator: ",") }
                    == ["step,state", "extract,succeeded", "report,succeeded"])
            #expect(
                csv.text.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).last ?? "" }
                    == ["values", "\"{\"\"rows\"\":\"\"3\"\"}\"", ""])
            let report = try await client.send(.get, "/api/runs/\(id)/report")
            #expect(
                report.text.contains(
                    "<h2>Values passed on</h2><table><tr><th>step</th><th>key</th><th>value</th></tr><tr><td>extract</td><td>rows</td><td><pre>3</pre></td></tr>"
                ))
            #expect(try await client.send(.get, "/api/runs/\(id)/export?format=pdf").status == .badRequest)

            let workbook = try await client.send(.get, "/api/runs/\(id)/export?format=xlsx")
            try workbook.data.write(to: URL(fileURLWithPath: workspace.path("run.xlsx")))
            // Python's zipfile checks every CRC; ElementTree parses every part; the Steps sheet holds the steps.
            let check = try workspace.write(
                "check_xlsx.py",
                """
                import sys, zipfile, xml.etree.ElementTree as ET
                book = zipfile.ZipFile(sys.argv[1])
                assert book.testzip() is None
                for name in book.namelist(): ET.fromstring(book.read(name))
                ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
                sheets = [s.get("name") for s in ET.fromstring(book.read("xl/workbook.xml")).iter("{%s}sheet" % ns["m"])]
                rows = ET.fromstring(book.read("xl/worksheets/sheet2.xml")).iter("{%s}row" % ns["m"])
                print(",".join(sheets), [["".join(c.itertext()) for c in row][:2] for row in rows])
                """)
            let (status, printed) = try Python.run([check, workspace.path("run.xlsx")])
            #expect(status == 0)
            #expect(printed == "Run,Steps,Attempts [['step', 'state'], ['extract', 'succeeded'], ['report', 'succeeded']]\n")
        }
    }

    @Test(arguments: HTTPSetup.both) func timesKeepTheirMillisecondsInTheAPIAndTheJSONExport(_ setup: HTTPSetup) async throws {
        try workspace.pipeline("nap", "steps:\n  - {name: nap, command: 'sleep 0.2'}\n")
        try await harness.test(setup.value) { client in
            let id = try #require(try await client.send(.post, "/api/pipelines/nap/runs").object["id"] as? String)
            let detail = try await client.finishedRun(id)
            let export = try await client.send(.get, "/api/runs/\(id)/export?format=json").object
            let format = ISO8601DateFormatter()
            format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            for (source, document) in [("GET /api/runs/\(id)", detail), ("its JSON export", export)] {
                let run = document["run"] as? [String: Any], step = (document["steps"] as? [[String: Any]])?.first
                let attempt = (document["attempts"] as? [[String: Any]])?.first
                let times = [
                    run?["createdAt"], run?["finishedAt"], step?["startedAt"], step?["finishedAt"], attempt?["startedAt"], attempt?["finishedAt"],
                ]
                .map { $0 as? String ?? "" }
                #expect(times.allSatisfy { $0.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil }, "\(source): \(times)")
                for (start, end) in [(times[2], times[3]), (times[4], times[5])] {
                    let took = (format.date(from: end) ?? .distantPast).timeIntervalSince(format.date(from: start) ?? .distantFuture)
                    #expect((0.15...5).contains(took), "\(source): a 0.2 s step from \(start) to \(end)")
                }
            }
        }
    }

    @Test(arguments: HTTPSetup.both) func uploadsAreStoredUnderSafeNamesAndOversizedOnesRefused(_ setup: HTTPSetup) async throws {
        @Sendable func form(_ name: String, _ content: String) -> String {
            "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(name)\"\r\nContent-Type: text/csv\r\n\r\n\(content)\r\n--XyZ--\r\n"
        }
        try await harness.test(setup.value) { client in
            let stored = try await client.upload(form("sales_data.csv", "date,revenue\r\n2026-11-01,10\r\n"), boundary: "XyZ")
            #expect(stored.status == .created)
            #expect(stored.array.first?["path"] as? String == "uploads/sales_data.csv")
            #expect(try workspace.read("uploads/sales_data.csv") == "date,revenue\r\n2026-11-01,10\r\n", "bytes kept exactly")
            // A quote followed by a combining mark is one character but still a quote: the field's name is closed.
            let marked = "--XyZ\r\nContent-Disposition: form-data; name=\"\u{301}f\"; filename=\"marks.csv\"\r\n\r\nx\r\n--XyZ--\r\n"
            #expect(try await client.upload(marked, boundary: "XyZ").status == .created)
            for name in ["../escape.csv", "/etc/passwd", ".hidden", "a/b.csv", "x%2F..%2Fy", ""] {
                let refused = try await client.upload(form(name, "x"), boundary: "XyZ")
                #expect(refused.status == .badRequest, "\(name) gave \(refused.status)")
            }
            #expect(!workspace.exists("escape.csv") && !workspace.exists("uploads/.hidden"))
            #expect(try await client.upload("not multipart", boundary: nil).status == .unsupportedMediaType)
            #expect(
                try await client.upload("--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.csv\"\r\n\r\nno end", boundary: "XyZ")
                    .status
                    == .badRequest)
            let huge = form("big.csv", String(repeating: "x", count: 65 << 20))
            #expect(try await client.upload(huge, boundary: "XyZ").status == .contentTooLarge)
            #expect(!workspace.exists("uploads/big.csv"))
        }
    }

    @Test(arguments: HTTPSetup.both) func newChangedAndBrokenPipelineFilesArePickedUpWithoutARestart(_ setup: HTTPSetup) async throws {
        try await harness.test(setup.value) { client in
            #expect(try await client.send(.get, "/api/pipelines").array.count == 1)
            try workspace.pipeline("fresh", "steps:\n  - {name: a, command: 'true'}\n")
            #expect(try await client.send(.get, "/api/pipelines").array.map { $0["id"] as? String } == ["fresh", "sales"])
            try workspace.pipeline("fresh", "steps:\n  - {name: a, command: 'true', depends_on: [b]}\n")
            let broken = try #require(try await client.send(.get, "/api/pipelines").array.first { $0["id"] as? String == "fresh" })
            #expect(broken["valid"] as? Bool == false)
            #expect((broken["diagnostics"] as? [[String: Any]])?.first?["code"] as? String == "unknown-dependency")
            try FileManager.default.removeItem(atPath: workspace.path("pipelines/fresh.yaml"))
            #expect(try await client.send(.get, "/api/pipelines").array.count == 1)
        }
    }
}

import Foundation
import SluiceTestSupport
import Testing

/// OpenLineage run events, received by an HTTP server as Marquez takes them (`POST /api/v1/lineage`) and checked
/// with openlineage-python (installed by `scripts/test.sh`): each event is rebuilt from the package's classes, which
/// it generates from the OpenLineage JSON Schema and whose validators check the run ids, times and URIs, and it
/// must serialize back to exactly what Sluice sent: no field missing, none unknown. (The package ships no schema
/// file of its own to validate against.)
@Suite(.serialized)
struct LineageTests {
    /// Receives events, checks each, and appends `{"ok", "problem", "event"}` lines to the file in argv[1].
    static let receiver = """
        import json, sys
        from http.server import BaseHTTPRequestHandler, HTTPServer
        from openlineage.client.generated import base, parent_run, error_message_run
        from openlineage.client.serde import Serde

        def facet(name, value):
            kinds = {"parent": parent_run.ParentRunFacet, "errorMessage": error_message_run.ErrorMessageRunFacet}
            fields = {k: v for k, v in value.items() if not k.startswith("_")}
            if name == "parent":
                fields = {"run": parent_run.Run(**fields["run"]), "job": parent_run.Job(**fields["job"])}
            built = kinds[name](**fields, producer=value["_producer"])
            assert built._schemaURL == value["_schemaURL"], f"{name}: schema {value['_schemaURL']}, not {built._schemaURL}"
            return built

        def rebuild(event):
            run = event["run"]
            return base.RunEvent(
                eventType=base.EventType(event["eventType"]), eventTime=event["eventTime"], producer=event["producer"],
                run=base.Run(runId=run["runId"], facets={k: facet(k, v) for k, v in run.get("facets", {}).items()}),
                job=base.Job(**event["job"]),
                inputs=[base.InputDataset(**d) for d in event["inputs"]], outputs=[base.OutputDataset(**d) for d in event["outputs"]])

        def strip(value):
            if isinstance(value, dict):
                return {k: strip(v) for k, v in value.items() if v not in ({}, [], None)}
            return [strip(v) for v in value] if isinstance(value, list) else value

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                problem = None
                try:
                    assert self.path == "/api/v1/lineage", f"posted to {self.path}"
                    assert self.headers["Content-Type"] == "application/json"
                    event = json.loads(body)
                    rebuilt = rebuild(event)
                    assert rebuilt.schemaURL == event["schemaURL"], f"schemaURL {event['schemaURL']}"
                    again = strip(json.loads(Serde.to_json(rebuilt)))
                    assert again == strip(event), f"round trip: {again} != {event}"
                except Exception as error:
                    problem = f"{type(error).__name__}: {error}"
                with open(sys.argv[1], "a") as out:
                    out.write(json.dumps({"ok": problem is None, "problem": problem, "event": json.loads(body)}) + "\\n")
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        server = HTTPServer(("127.0.0.1", 0), Handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """

    struct Received {
        var ok: Bool
        var problem: String?
        var event: [String: Any]
        var type: String { event["eventType"] as? String ?? "" }
        var job: String { (event["job"] as? [String: Any])?["name"] as? String ?? "" }
        var runID: String { (event["run"] as? [String: Any])?["runId"] as? String ?? "" }
        var parentRunID: String? {
            (((event["run"] as? [String: Any])?["facets"] as? [String: Any])?["parent"] as? [String: Any]).flatMap {
                ($0["run"] as? [String: Any])?["runId"] as? String
            }
        }
        func names(_ key: String) -> [String] { (event[key] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String } }
    }

    static func received(_ path: String) -> [Received] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return Received(
                ok: object["ok"] as? Bool ?? false, problem: object["problem"] as? String, event: object["event"] as? [String: Any] ?? [:])
        }
    }

    @Test func runsAndStepsSendStartAndEndEventsWithTheirFilesAsDatasets() throws {
        let workspace = try TestWorkspace()
        try workspace.write("receiver.py", Self.receiver)
        let log = workspace.path("events.jsonl")
        let receiver = try PythonServer(script: workspace.path("receiver.py"), arguments: [log])
        let address = receiver.address
        try workspace.write("sluice.yaml", "openlineage_url: \(address)\nopenlineage_namespace: analytics\n")
        try workspace.write("raw/sales.csv", "day,sales\n1,10\n")
        try workspace.pipeline(
            "sales",
            """
            steps:
              - {name: clean, command: 'mkdir -p clean && cp raw/sales.csv clean/sales.csv', inputs: [raw/sales.csv], outputs: [clean/sales.csv]}
              - name: split
                depends_on: [clean]
                foreach: [north, south]
                inputs: [clean/sales.csv]
                outputs: ["regions/{{ item }}.csv"]
                command: 'mkdir -p regions && cp clean/sales.csv "regions/$SLUICE_ITEM.csv"'
              - {name: list, depends_on: [clean], command: 'echo "teams=[\\"red\\", \\"blue\\"]" >> "$SLUICE_OUTPUT"'}
              - name: per_team
                depends_on: [list]
                foreach: "{{ steps.list.outputs.teams }}"
                outputs: ["teams/{{ item }}.txt"]
                command: 'mkdir -p teams && echo "$SLUICE_ITEM" > "teams/$SLUICE_ITEM.txt"'
            """)
        try workspace.pipeline("broken", "steps:\n  - {name: fails, command: 'echo no >&2; exit 3'}\n")

        let run = try SluiceBinary.run(["run", "sales"], in: workspace.root)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        var events = Self.received(log)
        var problems = events.compactMap(\.problem)
        #expect(problems.isEmpty, "\(problems)")
        #expect(events.map { "\($0.type) \($0.job)" }.first == "START sales", "the run's start comes first")
        #expect(events.map { "\($0.type) \($0.job)" }.last == "COMPLETE sales", "the run's end comes last")
        let runID = try #require(events.first?.runID)
        let steps = events.filter { $0.job.hasPrefix("sales.") }
        #expect(
            Set(steps.map { "\($0.type) \($0.job)" }) == [
                "START sales.clean", "COMPLETE sales.clean", "START sales.split[north]", "COMPLETE sales.split[north]",
                "START sales.split[south]", "COMPLETE sales.split[south]", "START sales.list", "COMPLETE sales.list",
                "START sales.per_team[red]", "COMPLETE sales.per_team[red]", "START sales.per_team[blue]", "COMPLETE sales.per_team[blue]",
            ], "a fan-out over a value sends its instances' events, and none of its own")
        #expect(!events.contains { $0.names("outputs").contains { $0.contains("{{") } }, "no dataset is named by a template")
        #expect(steps.allSatisfy { $0.parentRunID == runID && $0.runID != runID }, "each step names the run as its parent")
        #expect(events.allSatisfy { ($0.event["job"] as? [String: Any])?["namespace"] as? String == "analytics" })
        let start = try #require(events.first)
        #expect(start.names("inputs").contains(workspace.path("raw/sales.csv")))
        #expect(Set(start.names("outputs")).isSuperset(of: [workspace.path("regions/north.csv"), workspace.path("regions/south.csv")]))
        let north = try #require(steps.first { $0.type == "START" && $0.job == "sales.split[north]" })
        #expect(north.names("inputs") == [workspace.path("clean/sales.csv")] && north.names("outputs") == [workspace.path("regions/north.csv")])

        // A failed step and run send FAIL with the error; the same run id gives the same runId.
        let failed = try SluiceBinary.run(["run", "broken"], in: workspace.root)
        #expect(failed.status == 1)
        events = Self.received(log)
        problems = events.compactMap(\.problem)
        #expect(problems.isEmpty && events.allSatisfy { $0.ok }, "\(problems)")
        let fail = try #require(events.first { $0.type == "FAIL" && $0.job == "broken.fails" })
        let message = ((fail.event["run"] as? [String: Any])?["facets"] as? [String: Any])?["errorMessage"] as? [String: Any]
        #expect((message?["message"] as? String)?.contains("exit") == true, "\(fail.event)")
        #expect(events.last?.type == "FAIL" && events.last?.job == "broken")
    }

    @Test func aBackendThatNeverAnswersHoldsAFinishedRunAtMostAFewSecondsAndIsReported() throws {
        let workspace = try TestWorkspace()
        // Takes connections and never answers them.
        try workspace.write(
            "silent.py",
            """
            import socket
            server = socket.socket()
            server.bind(("127.0.0.1", 0))
            server.listen(64)
            print(server.getsockname()[1], flush=True)
            held = []
            while True:
                held.append(server.accept())
            """)
        let silent = try PythonServer(script: workspace.path("silent.py"))
        try workspace.write("sluice.yaml", "openlineage_url: \(silent.address)\n")
        try workspace.pipeline("p", "steps:\n  - {name: a, command: 'true'}\n")
        let run = try SluiceBinary.run(["run", "p"], in: workspace.root)
        #expect(run.status == 0 && run.stdout.contains("success"), "\(run.stdout)")
        #expect(run.stderr.contains("OpenLineage events of run") && run.stderr.contains("were not delivered"), "\(run.stderr)")
    }

    @Test func aBackendThatIsDownDelaysNoRunAndIsReportedOnce() throws {
        let workspace = try TestWorkspace()
        // A port nothing listens on: connections are refused at once.
        try workspace.write("sluice.yaml", "openlineage_url: http://127.0.0.1:9\n")
        try workspace.pipeline("p", "steps:\n  - {name: a, command: 'true'}\n  - {name: b, command: 'true', depends_on: [a]}\n")
        let run = try SluiceBinary.run(["run", "p"], in: workspace.root)
        #expect(run.status == 0)
        #expect(run.stderr.components(separatedBy: "were not delivered to http://127.0.0.1:9").count == 2, "\(run.stderr)")
        #expect(run.stderr.contains("note: 6 OpenLineage events of run"), "the run's and its steps' start and end: \(run.stderr)")
        try FileManager.default.removeItem(atPath: workspace.path("sluice.yaml"))
        let bad = try SluiceBinary.run(["run", "p"], in: workspace.root, environment: ["SLUICE_OPENLINEAGE_URL": "ftp://x"])
        #expect(bad.status == 65 && bad.stderr.contains("openlineage_url"), "\(bad.stderr)")
        // Nor may a value carry what would act on the terminal where it is printed back.
        let hostile = [
            ("SLUICE_OPENLINEAGE_URL", "http://127.0.0.1:1/\u{1B}[31m"), ("SLUICE_OTLP_ENDPOINT", "http://h/\u{9B}x"),
            ("SLUICE_OPENLINEAGE_NAMESPACE", "a\u{9B}b"),
        ]
        for (key, value) in hostile {
            let refused = try SluiceBinary.run(["config"], in: workspace.root, environment: [key: value])
            #expect(refused.status == 65 && !refused.stdout.contains(value) && !refused.stderr.contains(value), "\(key): \(refused.stderr)")
        }
        let blank = try SluiceBinary.run(["config"], in: workspace.root, environment: ["SLUICE_OPENLINEAGE_NAMESPACE": "   "])
        #expect(blank.status == 65 && blank.stderr.contains("'openlineage_namespace' must not be empty"), "\(blank.stderr)")
        // Another tool's variable that Sluice cannot use is passed over, not an error that stops every command.
        let foreign = ["OPENLINEAGE_URL": "collector:5000", "OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317", "OPENLINEAGE_NAMESPACE": ""]
        let passedOver = try SluiceBinary.run(["config", "--json"], in: workspace.root, environment: foreign)
        #expect(passedOver.status == 0, "\(passedOver.stderr)")
        let settings = (try JSONSerialization.jsonObject(with: Data(passedOver.stdout.utf8)) as? [[String: Any]]) ?? []
        #expect(settings.first { $0["key"] as? String == "openlineage_url" }?["value"] as? String == "")
        #expect(settings.first { $0["key"] as? String == "openlineage_namespace" }?["value"] as? String == "sluice")
    }
}

import Foundation
import SluiceTestSupport
import Testing

/// Runs as OpenTelemetry traces, exported over OTLP/HTTP by swift-otel to a receiver that decodes the real protobuf
/// with opentelemetry-proto (installed by `scripts/test.sh`); a step's own span, sent with the `TRACEPARENT` Sluice
/// gave it, nests under its attempt's span.
@Suite(.serialized)
struct TraceTests {
    /// Appends one JSON line per span received on `POST /v1/traces` to the file in argv[1].
    static let receiver = """
        import json, sys
        from http.server import BaseHTTPRequestHandler, HTTPServer
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

        def value(any_value):
            kind = any_value.WhichOneof("value")
            return getattr(any_value, kind) if kind else None

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = trace_service_pb2.ExportTraceServiceRequest()
                request.ParseFromString(body)
                with open(sys.argv[1], "a") as out:
                    for resource in request.resource_spans:
                        service = {kv.key: value(kv.value) for kv in resource.resource.attributes}.get("service.name")
                        for scope in resource.scope_spans:
                            for span in scope.spans:
                                out.write(json.dumps({
                                    "path": self.path, "type": self.headers["Content-Type"], "service": service,
                                    "trace": span.trace_id.hex(), "span": span.span_id.hex(), "parent": span.parent_span_id.hex(),
                                    "name": span.name, "start": span.start_time_unix_nano, "end": span.end_time_unix_nano,
                                    "attributes": {kv.key: value(kv.value) for kv in span.attributes},
                                    "status": span.status.code, "message": span.status.message}) + "\\n")
                answer = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        server = HTTPServer(("127.0.0.1", 0), Handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """

    /// A step's own span under the one in its TRACEPARENT, sent as any instrumented program would.
    static let childSpan = """
        import os, sys, time, urllib.request
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
        _, trace, parent, _ = os.environ["TRACEPARENT"].split("-")
        request = trace_service_pb2.ExportTraceServiceRequest()
        span = request.resource_spans.add().scope_spans.add().spans.add()
        span.trace_id, span.parent_span_id, span.span_id = bytes.fromhex(trace), bytes.fromhex(parent), os.urandom(8)
        span.name, span.start_time_unix_nano, span.end_time_unix_nano = "the step's own work", time.time_ns(), time.time_ns()
        urllib.request.urlopen(urllib.request.Request(
            sys.argv[1] + "/v1/traces", request.SerializeToString(), {"Content-Type": "application/x-protobuf"}))
        """

    @Test func aRunIsATraceAndEachAttemptASpanThatTheStepsOwnSpansNestUnder() throws {
        let workspace = try TestWorkspace()
        try workspace.write("receiver.py", Self.receiver)
        try workspace.write("child_span.py", Self.childSpan)
        let spansFile = workspace.path("spans.jsonl")
        let receiver = try PythonServer(script: workspace.path("receiver.py"), arguments: [spansFile])
        let address = receiver.address
        try workspace.write("sluice.yaml", "otlp_endpoint: \(address)\n")
        try workspace.pipeline(
            "traced",
            """
            steps:
              - {name: extract, command: 'echo "$TRACEPARENT" > "$SLUICE_OUTPUTS_DIR/traceparent.txt"'}
              - {name: load, command: '"\(Python.tools)" child_span.py \(address)', depends_on: [extract]}
              - {name: flaky, command: 'exit 3', retries: {count: 1, delay: 0}, allow_failure: true, depends_on: [extract]}
            """)
        let run = try SluiceBinary.run(["run", "traced", "--json"], in: workspace.root)
        #expect(run.status == 2, "a run with a tolerated failure partially succeeds: \(run.stdout)\(run.stderr)")
        let runID = try #require(
            ((try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])?["run"] as? [String: Any])?["id"] as? String)

        // `sluice run` exported every span before it exited.
        let spans = ((try? String(contentsOfFile: spansFile, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
        func named(_ name: String) -> [[String: Any]] { spans.filter { $0["name"] as? String == name } }
        func attributes(_ span: [String: Any]?) -> [String: Any] { span?["attributes"] as? [String: Any] ?? [:] }
        let root = try #require(named("run traced").first, "\(spans)")
        #expect(root["parent"] as? String == "" && root["service"] as? String == "sluice" && root["path"] as? String == "/v1/traces")
        #expect(root["type"] as? String == "application/x-protobuf")
        #expect(attributes(root)["sluice.run_id"] as? String == runID && attributes(root)["sluice.status"] as? String == "partial_success")
        let trace = try #require(root["trace"] as? String)

        let extract = try #require(named("extract").first)
        #expect(extract["trace"] as? String == trace && extract["parent"] as? String == root["span"] as? String)
        #expect(attributes(extract)["sluice.step"] as? String == "extract" && attributes(extract)["sluice.attempt"] as? Int == 1)
        #expect(attributes(extract)["process.exit.code"] as? Int == 0 && extract["status"] as? Int != 2)
        let given = try String(contentsOfFile: workspace.path("runs/\(runID)/outputs/traceparent.txt"), encoding: .utf8)
        #expect(given == "00-\(trace)-\(extract["span"] as? String ?? "")-01\n", "the step's TRACEPARENT is its attempt's span")

        let flaky = named("flaky").sorted { (attributes($0)["sluice.attempt"] as? Int ?? 0) < (attributes($1)["sluice.attempt"] as? Int ?? 0) }
        #expect(flaky.map { attributes($0)["sluice.attempt"] as? Int } == [1, 2], "one span per attempt")
        #expect(flaky.allSatisfy { $0["status"] as? Int == 2 && attributes($0)["process.exit.code"] as? Int == 3 }, "\(flaky)")
        #expect(flaky.allSatisfy { ($0["start"] as? Int ?? 0) <= ($0["end"] as? Int ?? -1) && $0["parent"] as? String == root["span"] as? String })

        let load = try #require(named("load").first)
        let own = try #require(named("the step's own work").first)
        #expect(own["trace"] as? String == trace && own["parent"] as? String == load["span"] as? String, "the step's span nests under it")
    }
}

import Foundation
import SluiceTestSupport
import Testing

/// The API document is good enough to generate a client from: openapi-python-client (installed by
/// `scripts/test.sh`) generates a Python package from a live server's `/api/openapi.json`, refusing any warning,
/// and a script drives a whole workflow through the generated functions and models alone: upload a file, start a
/// run with parameters, follow its status, read its outputs and its export, cancel another run, read an error.
@Suite(.serialized)
struct GeneratedClientTests {
    static let generator = URL(fileURLWithPath: Python.tools).deletingLastPathComponent().appendingPathComponent("openapi-python-client").path

    @Test func aClientGeneratedFromTheDocumentDrivesAWholeWorkflow() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.generator) else {
            throw TestFailure("openapi-python-client is not at \(Self.generator): scripts/test.sh installs it")
        }
        let workspace = try TestWorkspace()
        try workspace.pipeline(
            "report",
            """
            params:
              label: {type: string, required: true}
              copies: {type: int, default: "1", min: 1, max: 5}
            steps:
              - name: count
                command: 'wc -l < uploads/sales.csv | tr -d " " > "$SLUICE_OUTPUTS_DIR/lines.txt"'
              - name: title
                depends_on: [count]
                command: 'for i in $(seq "$COPIES"); do echo "$LABEL"; done > "$SLUICE_OUTPUTS_DIR/title.txt"'
            """)
        try workspace.pipeline("slow", "steps:\n  - {name: wait, command: 'sleep 60'}\n")
        let server = try SluiceBinary.start(["serve", "--port", "0", "--token", "client-token"], in: workspace.root)
        defer { kill(server.process.processIdentifier, SIGKILL) }
        let address = try #require(String(decoding: server.stdout.availableData, as: UTF8.self).split(separator: " ").last)
            .trimmingCharacters(in: .whitespacesAndNewlines)

        let fetched = try Shell.run(
            "curl -sSf -H 'Authorization: Bearer client-token' -o openapi.json \"$1/api/openapi.json\"", address, in: workspace.root)
        try #require(fetched.status == 0, "the document could not be read")
        // No formatting hooks (ruff would be a second tool to install); xlsx exports come back as bytes.
        try workspace.write(
            "generator.yaml",
            """
            post_hooks: []
            content_type_overrides:
              application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: application/octet-stream
            """)
        let generated = try Shell.run(
            "\"$1\" generate --path openapi.json --config generator.yaml --output-path sluice_client --meta none --overwrite --fail-on-warning 2>&1",
            Self.generator, in: workspace.root)
        #expect(generated.status == 0, "the generator warned or failed: \(generated.output)")
        try #require(generated.status == 0)

        try workspace.write("workflow.py", Self.workflow)
        let result = try Python.run(["workflow.py", address, "client-token"], in: workspace.root, mergingErrors: true, interpreter: Python.tools)
        print(result.output)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("workflow done"))
    }

    /// Only the generated package: its functions, its models and its `File` type.
    static let workflow = """
        import io, sys, time
        from sluice_client import AuthenticatedClient
        from sluice_client.api.default import (
            get_api_runs_run, get_api_runs_run_export, get_api_runs_run_outputs, get_api_runs_run_outputs_path,
            get_api_runs_run_status, get_api_runs_run_steps, post_api_pipelines_pipeline_runs, post_api_runs_run_cancel,
            post_api_uploads)
        from sluice_client.models import (
            GetApiRunsRunExportFormat, PostApiUploadsBody, RequestProblem, RunExportDocument, RunRecord, RunStatusReport,
            StartRunBody, StartRunBodyParamsType0, StepPage)
        from sluice_client.types import File

        client = AuthenticatedClient(base_url=sys.argv[1], token=sys.argv[2], raise_on_unexpected_status=True)

        def check(condition, message):
            if not condition:
                sys.exit("workflow failed: " + message)

        def wait_for(run_id, statuses):
            for _ in range(600):
                status = get_api_runs_run_status.sync(run_id, client=client)
                check(isinstance(status, RunStatusReport), f"status of {run_id}: {status}")
                if status.status.value in statuses:
                    return status
                time.sleep(0.1)
            sys.exit(f"workflow failed: {run_id} never reached {statuses}")

        uploaded = post_api_uploads.sync(
            client=client, overwrite=True,
            body=PostApiUploadsBody(file=File(payload=io.BytesIO(b"day,sales\\n1,10\\n2,20\\n3,30\\n"), file_name="sales.csv")))
        check(isinstance(uploaded, list) and uploaded[0].path == "uploads/sales.csv", f"upload: {uploaded}")
        print("uploaded", uploaded[0].path, uploaded[0].size, "bytes")

        params = StartRunBodyParamsType0.from_dict({"label": "Weekly sales", "copies": 2})
        run = post_api_pipelines_pipeline_runs.sync("report", client=client, body=StartRunBody(params=params))
        check(isinstance(run, RunRecord), f"start: {run}")
        status = wait_for(run.id, {"success", "failed"})
        check(status.status.value == "success", f"the run ended {status.status.value}: {status.to_dict()}")
        check(status.steps == 2 and status.finished == 2 and status.percent == 100, f"counts: {status.to_dict()}")
        print("run", run.id, status.status.value, status.counts.to_dict())

        page = get_api_runs_run_steps.sync(run.id, client=client)
        check(isinstance(page, StepPage) and [s.step for s in page.steps] == ["count", "title"], f"steps: {page}")
        files = get_api_runs_run_outputs.sync(run.id, client=client)
        check(sorted(f.path for f in files) == ["lines.txt", "title.txt"], f"outputs: {files}")
        lines = get_api_runs_run_outputs_path.sync(run.id, "lines.txt", client=client)
        check(lines.payload.read().strip() == b"4", "lines.txt should count the upload's 4 lines")
        title = get_api_runs_run_outputs_path.sync(run.id, "title.txt", client=client)
        check(title.payload.read() == b"Weekly sales\\nWeekly sales\\n", "title.txt should hold the label twice")

        export = get_api_runs_run_export.sync(run.id, client=client, format_=GetApiRunsRunExportFormat.JSON)
        check(isinstance(export, RunExportDocument), f"export: {export}")
        check(export.run.parameters.to_dict() == {"label": "Weekly sales", "copies": "2"}, f"parameters: {export.run.parameters}")
        check([s.state.value for s in export.steps] == ["succeeded", "succeeded"], "exported step states")
        print("export", len(export.steps), "steps,", len(export.attempts), "attempts")

        refused = post_api_pipelines_pipeline_runs.sync_detailed("report", client=client, body=StartRunBody())
        check(refused.status_code == 422 and isinstance(refused.parsed, RequestProblem), f"no label: {refused}")
        check("params.label" in refused.parsed.fields.to_dict(), f"the refusal names the parameter: {refused.parsed.to_dict()}")

        slow = post_api_pipelines_pipeline_runs.sync("slow", client=client, body=StartRunBody())
        wait_for(slow.id, {"running"})
        cancelling = post_api_runs_run_cancel.sync(slow.id, client=client)
        check(cancelling.cancelling == slow.id, f"cancel: {cancelling}")
        ended = wait_for(slow.id, {"cancelled", "failed", "success"})
        check(ended.status.value == "cancelled", f"the cancelled run ended {ended.status.value}")
        print("cancelled", slow.id)

        missing = get_api_runs_run.sync_detailed("no-such-run", client=client)
        check(missing.status_code == 404 and "no-such-run" in missing.parsed.error.message, f"a missing run: {missing}")
        print("workflow done")
        """
}

import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// `wait_for:` steps, as Airflow's sensors in reschedule mode: each check a short attempt, no slot held between them.
/// Real `sluice` processes, real files, a real HTTP server (Python's), and a real SIGKILL.
struct WaitForTests {
    let workspace: TestWorkspace

    init() throws { workspace = try TestWorkspace() }

    func sluice(_ arguments: String...) throws -> SluiceBinary.Result { try SluiceBinary.run(arguments, in: workspace.root) }

    func newestRun() async throws -> RunRecord { try #require(try await workspace.store().runs(pipeline: nil, limit: 1, offset: 0).first) }

    @Test func aWaitingStepLetsAOneJobRunMakeTheFileItWaitsFor() async throws {
        try workspace.pipeline(
            "landing",
            """
            steps:
              - name: wait
                wait_for: {file: "incoming/{{ params.day }}.csv", interval: 0.2s, timeout: 30s}
              - name: drop
                command: 'sleep 0.5; mkdir -p incoming; echo "a,b" > "incoming/$DAY.csv"'
              - name: load
                depends_on: [wait]
                command: 'cat "incoming/$DAY.csv"'
            params: {day: {type: date, default: "2026-12-01"}}
            """)
        let run = try sluice("run", "landing", "-j", "1")
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("waiting  wait: checking every 200ms, for up to 30s"), "\(run.stdout)")
        #expect(!run.stdout.contains("failed"), "a check that finds nothing is no failure: \(run.stdout)")
        let id = try await newestRun().id
        let attempts = try await workspace.store().attempts(runID: id)
        let checks = attempts.filter { $0.step == "wait" }
        let drop = try #require(attempts.first { $0.step == "drop" })
        #expect(checks.count >= 2, "it checked, let drop run in the one slot, and checked again")
        let (firstCheck, lastCheck) = (try #require(checks.first), try #require(checks.last))
        #expect(firstCheck.finishedAt! <= drop.startedAt && drop.finishedAt! <= lastCheck.startedAt)
        #expect(try workspace.read("runs/\(id)/logs/load.log") == "a,b\n")
        #expect(try workspace.read("runs/\(id)/logs/wait.log").hasPrefix("no incoming/2026-12-01.csv yet\n"))
    }

    @Test func aWaitThatTimesOutFailsOrWithSoftFailIsSkippedWithItsDownstreamSteps() async throws {
        try workspace.pipeline(
            "sensor",
            """
            params: {soft: {type: string, default: "false"}}
            steps:
              - name: wait
                wait_for: {glob: "nothing/*.csv", interval: 0.1s, timeout: 0.5s, soft_fail: true}
              - {name: after, depends_on: [wait], command: 'echo ran'}
              - {name: other, command: 'echo independent'}
            """)
        let soft = try sluice("run", "sensor")
        #expect(soft.status == 0, "skipped is not failed: \(soft.stdout)\(soft.stderr)")
        let steps = try await workspace.store().stepRuns(runID: try await newestRun().id)
        #expect(steps.map { "\($0.step)=\($0.state.rawValue)" } == ["wait=skipped", "after=skipped", "other=succeeded"])
        #expect(
            steps[0].error?.hasPrefix("gave up waiting after 6 checks over 500ms") == true
                && steps[0].error?.hasSuffix("; soft_fail: skipped") == true)

        try workspace.pipeline("sensor", try workspace.read("pipelines/sensor.yaml").replacingOccurrences(of: ", soft_fail: true", with: ""))
        let hard = try sluice("run", "sensor")
        #expect(hard.status == 1)
        #expect(hard.stdout.contains("failed   wait: gave up waiting after"), "\(hard.stdout)")
        #expect(try await newestRun().status == .failed)
    }

    @Test func aWaitForAnHTTPURLEndsWhenItAnswersTwoHundred() async throws {
        let served = try workspace.path("served")
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
        // Python's own HTTP server on a port the kernel picks: 404 for the file until a step writes it.
        let server = try BackgroundProcess(
            ["python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", served], in: workspace.root,
            outputFile: workspace.path("http.log"))
        defer { server.signal(SIGTERM) }
        // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
        #expect(try await waitUntil { server.output.contains(" port ") })
        let words = server.output.split(separator: " ")
        let port = try #require(words.firstIndex(of: "port").map { words[$0 + 1] })
        try workspace.pipeline(
            "api",
            """
            steps:
              - name: wait
                wait_for: {http: "http://127.0.0.1:\(port)/ready.json", interval: 0.2s, timeout: 30s}
              - {name: publish, command: 'sleep 0.4; echo "{}" > served/ready.json'}
            """)
        let run = try sluice("run", "api", "-j", "1")
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let log = try workspace.read("runs/\(try await newestRun().id)/logs/wait.log")
        #expect(log.contains("/ready.json answered 404") && log.contains("/ready.json answered 200"), "\(log)")
    }

    @Test func aWaitSurvivesAKilledSluiceAndIsResumedOrCancelled() async throws {
        try workspace.pipeline(
            "patient",
            """
            steps:
              - name: wait
                wait_for: {file: go.txt, interval: 0.2s, timeout: 1h}
              - {name: after, depends_on: [wait], command: 'cat go.txt'}
            """)
        let first = try SluiceBinary.start(["run", "patient"], in: workspace.root)
        let store = try workspace.store()
        #expect(
            try await eventually {
                guard let run = try await store.runs(pipeline: "patient", limit: 1, offset: 0).first else { return false }
                return try await store.attempts(runID: run.id).count >= 2
            })
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        let id = try await newestRun().id
        _ = try workspace.write("go.txt", "go\n")
        let resumed = try sluice("resume", id)
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stderr.contains("run \(id) was interrupted"), "the killed run was found and recorded interrupted first")
        #expect(try workspace.read("runs/\(id)/logs/after.log") == "go\n")
        #expect(try await store.run(id: id)?.status == .success)

        // A cancel stops a wait.
        try FileManager.default.removeItem(atPath: workspace.path("go.txt"))
        let waiting = try SluiceBinary.start(["run", "patient"], in: workspace.root)
        #expect(try await eventually { try await store.runs(pipeline: "patient", limit: 1, offset: 0).first.map { $0.id != id } ?? false })
        let second = try await newestRun().id
        #expect(try await eventually { try await store.attempts(runID: second).count >= 2 })
        kill(waiting.process.processIdentifier, SIGTERM)
        waiting.process.waitUntilExit()
        #expect(waiting.process.terminationStatus == 143)
        let wait = try #require(try await store.stepRuns(runID: second).first)
        // Between two checks ("cancelled while waiting to retry"), or during one.
        #expect(wait.state == .cancelled && wait.error?.hasPrefix("cancelled") == true, "\(wait)")
        #expect(try await store.run(id: second)?.status == .cancelled)
    }

    /// What a check could never find, or should not look at, is refused before anything runs, at its line.
    @Test func aWaitForSomethingOutsideTheWorkspaceOrNoURLIsRefused() throws {
        for (wait, message) in [
            ("{http: 'http://[::1'}", "'wait_for.http' must be an http:// or https:// URL with a host, not 'http://[::1'"),
            ("{http: 'ftp://host/file'}", "'wait_for.http' must be an http:// or https:// URL with a host"),
            ("{http: 'http://127.0.0.1:99999/ready'}", "'wait_for.http' has port '99999', which is not a number between 1 and 65535"),
            (
                "{http: 'http://127.0.0.1:99999999999999999999/ready'}",
                "'wait_for.http' has port '99999999999999999999', which is not a number between 1 and 65535"
            ),
            ("{http: 'http://[::1]:0/'}", "'wait_for.http' has port '0', which is not a number between 1 and 65535"),
            ("{http: \"http://a\\u001B[31m/\"}", "'wait_for.http' must not hold control characters"),
            ("{file: /etc/passwd}", "'wait_for' must be a path inside the workspace, not '/etc/passwd'"),
            ("{glob: '../../etc/pass*'}", "'wait_for' must be a path inside the workspace, not '../../etc/pass*'"),
            ("{file: \"a\\nb\"}", "'wait_for' must be a path inside the workspace"),
            ("{file: x, interval: 20s, timeout: 1s}", "'wait_for.interval' (20s) is longer than its timeout (1.0s)"),
        ] {
            try workspace.pipeline("w", "steps:\n  - {name: wait, wait_for: \(wait)}")
            let checked = try sluice("validate", "w")
            #expect(
                checked.status == 65 && checked.stdout.contains("pipelines/w.yaml:2:") && checked.stdout.contains(message),
                "\(wait): \(checked.stdout)")
        }
        let empty = try sluice("probe", "--file", "")
        #expect(empty.status == 64 && empty.stderr.contains("--file must be a path inside the workspace"), "\(empty.stderr)")
        let outside = try sluice("probe", "--glob", "../../etc/pass*")
        #expect(outside.status == 64, "\(outside.stdout)\(outside.stderr)")
        // A password in the URL is not said in the step's log.
        let secret = try sluice("probe", "--http", "http://user:s3cr3t@127.0.0.1:1/health")
        #expect(secret.status == 1 && !secret.stdout.contains("s3cr3t") && secret.stdout.contains("user:***@127.0.0.1:1"), "\(secret.stdout)")
    }

    /// A user and password in the URL are sent as Basic authentication, as curl sends them; a closed port is refused
    /// at once (the client does not retry connecting until the check's timeout); a port out of range is refused.
    @Test func anHTTPCheckSendsTheURLsPasswordAndSaysWhyItCouldNotConnect() throws {
        try workspace.write(
            "auth.py",
            """
            import http.server, sys
            class Handler(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    self.send_response(200 if self.headers.get("Authorization") == "Basic Ym9iOnNAY3JldA==" else 401)
                    self.end_headers()
                def log_message(self, *args): pass
            server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
            print(server.server_address[1], flush=True)
            server.serve_forever()
            """)
        let server = try PythonServer(script: workspace.path("auth.py"))
        let authorized = try sluice("probe", "--http", server.address.replacingOccurrences(of: "//", with: "//bob:s%40cret@") + "/ready")
        #expect(authorized.status == 0 && authorized.stdout.contains("answered 200"), "\(authorized.stdout)\(authorized.stderr)")
        #expect(!authorized.stdout.contains("cret"), "the password is not said: \(authorized.stdout)")
        let anonymous = try sluice("probe", "--http", server.address + "/ready")
        #expect(anonymous.status == 1 && anonymous.stdout.contains("answered 401"), "\(anonymous.stdout)")
        let closed = try sluice("probe", "--http", "http://127.0.0.1:1/ready")
        #expect(closed.status == 1 && closed.stdout.contains("did not answer: Connection refused"), "\(closed.stdout)")
        let range = try sluice("probe", "--http", "http://127.0.0.1:99999/ready")
        #expect(range.status == 64 && range.stderr.contains("port '99999', which is not a number between 1 and 65535"), "\(range.stderr)")
        let escape = try sluice("probe", "--http", "http://a\u{1B}[31m/")
        #expect(escape.status == 64 && !escape.stderr.contains("\u{1B}"), "a terminal escape is not echoed: \(escape.stderr)")
    }
}

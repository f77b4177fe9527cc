import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `sluice serve` as a user runs it: a real server process on 127.0.0.1.
/// Serialized for the same reason as ``CommandLineTests``.
@Suite(.serialized)
struct ServeCommandTests {
    let workspace: TestWorkspace

    init() throws { workspace = try TestWorkspace() }

    @Test func sigtermCancelsTheServersRunsCleanlyAndRecordsThem() async throws {
        try workspace.pipeline("slow", "steps:\n  - {name: wait, command: 'echo $$ > \"$SLUICE_WORKING_DIR/pid\"; sleep 60'}\n")
        let server = try SluiceBinary.start(["serve", "--port", "0"], in: workspace.root)
        defer { if server.process.isRunning { kill(server.process.processIdentifier, SIGKILL) } }
        let banner = String(decoding: server.stdout.availableData, as: UTF8.self)
        let address = try #require(banner.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        #expect(address.hasPrefix("http://127.0.0.1:"))

        var request = URLRequest(url: try #require(URL(string: address + "/api/pipelines/slow/runs")))
        request.httpMethod = "POST"
        let (data, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 202)
        let id = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["id"] as? String)
        let pidFile = workspace.path("runs/\(id)/working/pid")
        #expect(await waitUntil { workspace.exists(pidFile) && !((try? workspace.read(pidFile)) ?? "").isEmpty })
        let stepPID = try #require(Int32(try workspace.read(pidFile).trimmingCharacters(in: .whitespacesAndNewlines)))

        // The CLI and the server share the store: a CLI run is listed by the server, the server's run by the CLI.
        try workspace.pipeline("quick", "steps:\n  - {name: hello, command: echo hi}\n")
        let cliRun = try await SluiceBinary.run(["run", "quick"], in: workspace.root)
        let cliID = try #require(cliRun.stdout.split(separator: " ").dropFirst().first.map(String.init))
        let (listed, _) = try await URLSession.shared.data(from: try #require(URL(string: address + "/api/runs?pipeline=quick")))
        #expect((try JSONSerialization.jsonObject(with: listed) as? [[String: Any]])?.first?["id"] as? String == cliID)
        #expect(await try SluiceBinary.run(["status", id], in: workspace.root).stdout.contains("pipeline slow  running"))

        kill(server.process.processIdentifier, SIGTERM)
        server.process.waitUntilExit()
        #expect(!processIsAlive(stepPID))
        let store = try workspace.store()
        #expect(try await store.run(id: id)?.status == .cancelled)
        #expect(try await store.stepRuns(runID: id).first?.state == .cancelled)
    }

    @Test func aServerKilledWithSIGKILLLeavesNothingRunningOnceAnotherStarts() async throws {
        try workspace.pipeline("slow", "steps:\n  - {name: wait, command: 'echo $$ > \"$SLUICE_WORKING_DIR/pid\"; sleep 60'}\n")
        let server = try SluiceBinary.start(["serve", "--port", "0"], in: workspace.root)
        let address = try #require(String(decoding: server.stdout.availableData, as: UTF8.self).split(separator: " ").last)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var request = URLRequest(url: try #require(URL(string: address + "/api/pipelines/slow/runs")))
        request.httpMethod = "POST"
        let (data, _) = try await URLSession.shared.data(for: request)
        let id = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["id"] as? String)
        let pidFile = workspace.path("runs/\(id)/working/pid")
        #expect(await waitUntil { !((try? workspace.read(pidFile)) ?? "").isEmpty })
        let stepPID = try #require(Int32(try workspace.read(pidFile).trimmingCharacters(in: .whitespacesAndNewlines)))
        let store = try workspace.store()
        for _ in 0..<4000 where try await store.stepRuns(runID: id).first?.state != .running { usleep(5_000) }

        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
        #expect(processIsAlive(stepPID), "the step outlives the killed server until the next start")
        let next = try SluiceBinary.start(["serve", "--port", "0"], in: workspace.root)
        defer { kill(next.process.processIdentifier, SIGKILL) }
        _ = next.stdout.availableData  // the banner: the server has started, and recovered what the other left
        #expect(!processIsAlive(stepPID))
        #expect(try await store.run(id: id)?.status == .interrupted)
        #expect(try await store.stepRuns(runID: id).first?.state == .interrupted)
    }

    /// A run recorded under the server's own pid that the server does not run is an earlier server's (in a container,
    /// every server is pid 1): cancelling it must not make the server signal itself.
    @Test func cancellingARunOfAnEarlierProcessWithTheServersPidLeavesTheServerRunning() async throws {
        let server = try SluiceBinary.start(["serve", "--port", "0"], in: workspace.root)
        defer { if server.process.isRunning { kill(server.process.processIdentifier, SIGKILL) } }
        let address = try #require(String(decoding: server.stdout.availableData, as: UTF8.self).split(separator: " ").last)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let run = try await workspace.store().createRun(NewRun(pipeline: "p", trigger: "api", runsDirectory: workspace.runsDirectory, steps: ["a"]))
        _ = try Python.sqlite(workspace.storePath, "UPDATE runs SET ownerpid = \(server.process.processIdentifier)")

        var request = URLRequest(url: try #require(URL(string: address + "/api/runs/\(run.id)/cancel")))
        request.httpMethod = "POST"
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 409)
        let (_, health) = try await URLSession.shared.data(from: try #require(URL(string: address + "/api/health")))
        #expect((health as? HTTPURLResponse)?.statusCode == 200, "the server did not stop itself")
        #expect(server.process.isRunning)
    }

    @Test func anyAddressOtherThanLoopbackIsRefusedWithoutAToken() throws {
        for host in ["0.0.0.0", "127.0.0.1.nip.io"] {
            let refused = try SluiceBinary.run(["serve", "--host", host, "--port", "0"], in: workspace.root)
            #expect(refused.status == 64)
            #expect(refused.stderr.contains("refusing to listen on \(host) without a token"))
        }
        for empty in ["", "  "] {
            let refused = try SluiceBinary.run(["serve", "--port", "0", "--token", empty], in: workspace.root)
            #expect(refused.status == 64 && refused.stderr.contains("--token is empty"), "'\(empty)'")
        }
        let help = try SluiceBinary.run(["serve", "--help"], in: workspace.root).stdout
        #expect(help.contains("--token-file") && help.contains("SLUICE_TOKEN") && help.contains("ps"))
    }

    @Test func theTokenComesFromAFileAndNoStepSeesIt() async throws {
        try workspace.pipeline("peek", "steps:\n  - {name: env, command: 'echo \"token=${SLUICE_TOKEN:-none}\"'}\n")
        try workspace.write("token", "file-token-123\n")
        for bad in ["", "two\nlines\n"] {
            try workspace.write("bad-token", bad)
            #expect(await try SluiceBinary.run(["serve", "--port", "0", "--token-file", "bad-token"], in: workspace.root).status == 65)
        }
        let server = try SluiceBinary.start(
            ["serve", "--port", "0", "--token-file", "token"], in: workspace.root,
            environment: ["SLUICE_TOKEN": "ignored-env-token"])
        defer { kill(server.process.processIdentifier, SIGKILL) }
        let address = try #require(String(decoding: server.stdout.availableData, as: UTF8.self).split(separator: " ").last)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var request = URLRequest(url: try #require(URL(string: address + "/api/pipelines/peek/runs")))
        request.httpMethod = "POST"
        #expect((try await URLSession.shared.data(for: request).1 as? HTTPURLResponse)?.statusCode == 401)
        request.setValue("Bearer file-token-123", forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 202)
        let id = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["id"] as? String)
        let store = try workspace.store()
        #expect(try await eventually { try await store.run(id: id)?.status == .success })
        #expect(try workspace.read("runs/\(id)/logs/env.log") == "token=none\n")
    }

    /// Prometheus takes a counter that goes down for a restart of the server: removing runs must lower none.
    @Test func metricsCountersNeverGoDownWhenRunsAreRemoved() async throws {
        try workspace.pipeline(
            "flaky",
            """
            steps:
              - {name: quick, command: 'true'}
              - {name: flaky, command: 'exit 1', retries: {count: 2, delay: 0s}}
            """)
        let server = try SluiceBinary.start(["serve", "--port", "0"], in: workspace.root)
        defer { kill(server.process.processIdentifier, SIGKILL) }
        let address = try #require(String(decoding: server.stdout.availableData, as: UTF8.self).split(separator: " ").last)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        func scrape() async throws -> [String: Double] {
            let (data, _) = try await URLSession.shared.data(from: try #require(URL(string: address + "/metrics")))
            let text = String(decoding: data, as: UTF8.self)
            // promtool (Debian's prometheus package, installed by scripts/setup-machine.sh --for-tests) parses and lints it.
            try workspace.write("metrics.txt", text)
            let check = try Shell.run("promtool check metrics < metrics.txt 2>&1", in: workspace.root)
            #expect(check.status == 0 && check.output.isEmpty, "promtool: \(check.output)")
            return Dictionary(
                uniqueKeysWithValues: text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line in
                    line.split(separator: " ").last.flatMap { Double($0) }.map { (String(line.split(separator: " ")[0]), $0) }
                })
        }
        for _ in 0..<3 { _ = try await SluiceBinary.run(["run", "flaky"], in: workspace.root) }
        let before = try await scrape()
        #expect(before["sluice_retries_total"] == 6 && before["sluice_step_duration_seconds_count"] == 6)
        #expect(before["sluice_step_duration_seconds_bucket{le=\"+Inf\"}"] == 6 && before["sluice_step_duration_seconds_bucket{le=\"5\"}"] == 6)
        #expect(await try SluiceBinary.run(["gc", "--keep", "1"], in: workspace.root).stdout.contains("removed 2 runs"))
        let after = try await scrape()
        #expect(after["sluice_runs{status=\"failed\"}"] == 1, "gauges follow the store")
        let counters = before.keys.filter { $0.contains("_total") || $0.contains("_bucket") || $0.hasSuffix("_sum") || $0.hasSuffix("_count") }
        #expect(counters.count == 15)
        for name in counters.sorted() {
            #expect(after[name] ?? -1 >= before[name] ?? 0, "\(name) went from \(before[name] ?? 0) to \(after[name] ?? -1)")
        }
        #expect(after["sluice_retries_total"] == 6 && after["sluice_step_duration_seconds_count"] == 6)
    }

    @Test func uploadsStreamToDiskInsteadOfMemory() async throws {
        let server = try SluiceBinary.start(["serve", "--port", "0"], in: workspace.root)
        defer { kill(server.process.processIdentifier, SIGKILL) }
        let address = try #require(String(decoding: server.stdout.availableData, as: UTF8.self).split(separator: " ").last)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        func peakMemory() throws -> Int {
            let status = try String(contentsOfFile: "/proc/\(server.process.processIdentifier)/status", encoding: .utf8)
            let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") })
            return try #require(Int(line.split(separator: " ")[1])) * 1024
        }
        let before = try peakMemory()
        let size = 60 << 20
        let payload = Data(repeating: UInt8(ascii: "x"), count: size)
        try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<4 {
                group.addTask {
                    var request = URLRequest(url: URL(string: address + "/api/uploads")!)
                    request.httpMethod = "POST"
                    request.setValue("multipart/form-data; boundary=B", forHTTPHeaderField: "Content-Type")
                    request.httpBody =
                        Data("--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"part\(index).bin\"\r\n\r\n".utf8)
                        + payload + Data("\r\n--B--\r\n".utf8)
                    return (try await URLSession.shared.data(for: request).1 as? HTTPURLResponse)?.statusCode ?? 0
                }
            }
            for try await status in group { #expect(status == 201) }
        }
        for index in 0..<4 {
            let attributes = try FileManager.default.attributesOfItem(atPath: workspace.path("uploads/part\(index).bin"))
            #expect((attributes[.size] as? NSNumber)?.intValue == size)
        }
        let grown = try peakMemory() - before
        #expect(grown < 64 << 20, "240 MiB of uploads raised the server's peak memory by \(grown >> 20) MiB")
    }
}

import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Faults during a run, caused for real: a full disk (a small tmpfs), a flood of output, a store that is locked,
/// read-only or damaged. Serialized (see ``CommandLineTests``); mounting needs root, as CI runs.
@Suite(.serialized)
struct FaultTests {
    let workspace: TestWorkspace

    init() throws { workspace = try TestWorkspace() }

    func sluice(_ arguments: String..., environment: [String: String] = [:]) throws -> SluiceBinary.Result {
        try SluiceBinary.run(arguments, in: workspace.root, environment: environment)
    }

    @Test func aFullDiskFailsTheStepClearlyAndTheRollbackStillRestoresTheLastGoodOutput() throws {
        try mount("-t", "tmpfs", "-o", "size=4m", "tmpfs", workspace.root)
        defer { try? mount(umount: workspace.root) }
        try workspace.write(
            "pipelines/fill.yaml",
            """
            steps:
              - name: fill
                command: 'echo small > data/out.txt; if [ -f big ]; then dd if=/dev/zero of=data/out.txt bs=64k count=1000; fi'
                outputs: [data/out.txt]
                on_failure: rollback
            """)
        try FileManager.default.createDirectory(atPath: workspace.path("data"), withIntermediateDirectories: true)
        #expect(try sluice("run", "fill").status == 0)
        let annotations = try workspace.read(".sluice/versions/fill/fill/annotations.json")

        try workspace.write("big", "")
        let full = try sluice("run", "fill", "--force", "--json")
        #expect(full.status == 2, "the failure was recovered: \(full.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(full.stdout.utf8)) as! [String: Any]
        let step = try #require((report["steps"] as? [[String: Any]])?.first)
        #expect((step["state"] as? String) == "failed" && (step["recovered"] as? Bool) == true)
        let status = try sluice("status", try #require((report["run"] as? [String: Any])?["id"] as? String), "--json").stdout
        #expect(status.contains("No space left on device"), "the step's error says why: \(status)")
        #expect(try workspace.read("data/out.txt") == "small\n", "the rollback restored the last good output")
        #expect(try workspace.read(".sluice/versions/fill/fill/annotations.json") == annotations, "the annotations are intact")
        #expect(try Python.sqlite(workspace.storePath, "PRAGMA integrity_check") == "ok")
    }

    @Test func aNewVersionThatDoesNotFitLeavesTheEarlierOneAndNoHalfWrittenFile() throws {
        try mount("-t", "tmpfs", "-o", "size=4m", "tmpfs", workspace.root)
        defer { try? mount(umount: workspace.root) }
        try workspace.write(
            "pipelines/grow.yaml",
            """
            steps:
              - name: grow
                command: 'if [ -f big ]; then head -c 2500000 /dev/zero > data/out.bin; else echo small > data/out.bin; fi'
                outputs: [data/out.bin]
            """)
        try FileManager.default.createDirectory(atPath: workspace.path("data"), withIntermediateDirectories: true)
        #expect(try sluice("run", "grow").status == 0)
        let versions = ".sluice/versions/grow/grow"
        let annotations = try workspace.read("\(versions)/annotations.json")

        // The output fits; its copy in the version store does not.
        try workspace.write("big", "")
        let grown = try sluice("run", "grow", "--force", "--json")
        #expect(grown.status == 1, "the run failed: \(grown.stdout)\(grown.stderr)")
        #expect(grown.stdout.contains("No space left on device"), "the step's error says why: \(grown.stdout)")
        #expect(try workspace.read("\(versions)/annotations.json") == annotations, "the annotations are as they were")
        #expect(try workspace.read("\(versions)/newest/data/out.bin") == "small\n", "the earlier version is kept")
        let files = FileManager.default.enumerator(atPath: workspace.path(versions))?.allObjects as? [String] ?? []
        #expect(!files.contains { $0.hasSuffix(".tmp") }, "no half-written copy is left behind: \(files)")
        #expect(try Python.sqlite(workspace.storePath, "PRAGMA integrity_check") == "ok")
    }

    @Test func aFloodOfOutputKeepsMemoryFlatAndTheLogCapped() throws {
        try workspace.write("sluice.yaml", "log_max_size: 8MB\n")
        // 1 GiB with no newline at all, then binary garbage.
        try workspace.pipeline("flood", "steps:\n  - {name: flood, command: 'head -c 1G /dev/zero; head -c 16M /dev/urandom'}\n")
        let measured = try Python.run([
            "-c",
            """
            import resource, subprocess, sys
            done = subprocess.run([sys.argv[1], "run", "flood", "-C", sys.argv[2]], capture_output=True)
            print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
            """, SluiceBinary.path, workspace.root,
        ]).output
        let figures = measured.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(figures.first == 0)
        let peakMiB = (figures.last ?? 0) / 1024
        print("output flood: 1040 MiB printed, peak RSS of sluice and its step \(peakMiB) MiB")
        #expect(peakMiB < 120, "memory stays flat: \(peakMiB) MiB for 1 GiB of output")
        let run = try #require(try JSONSerialization.jsonObject(with: Data(try sluice("runs", "--json").stdout.utf8)) as? [[String: Any]])
        let logs = workspace.path("runs/\(try #require(run.first?["id"] as? String))/logs")
        for file in ["flood.log", "flood.log.1"] {
            let size = try #require(try FileManager.default.attributesOfItem(atPath: "\(logs)/\(file)")[.size] as? Int)
            #expect(size <= 8 << 20 + 200, "\(file) is kept under the cap: \(size) bytes")
        }
    }

    @Test func theAPIAnswersWhileAStepFloodsItsLog() async throws {
        try workspace.write("sluice.yaml", "log_max_size: 8MB\n")
        try workspace.pipeline("flood", "steps:\n  - {name: flood, command: 'head -c 3G /dev/zero'}\n")
        let server = try SluiceBinary.start(["serve", "--port", "0"], in: workspace.root)
        defer { kill(server.process.processIdentifier, SIGKILL) }
        let address = try #require(String(decoding: server.stdout.availableData, as: UTF8.self).split(separator: " ").last)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var start = URLRequest(url: try #require(URL(string: address + "/api/pipelines/flood/runs")))
        start.httpMethod = "POST"
        let (created, _) = try await URLSession.shared.data(for: start)
        let id = try #require((try JSONSerialization.jsonObject(with: created) as? [String: Any])?["id"] as? String)
        // While the step writes gigabytes, the run, its log and the run list are served (and the run is still going).
        var answeredWhileRunning = 0
        for path in Array(repeating: ["/api/runs/\(id)", "/api/runs/\(id)/steps/flood/log?offset=0&limit=4096", "/api/runs"], count: 10).joined() {
            let (data, response) = try await URLSession.shared.data(from: try #require(URL(string: address + path)))
            #expect((response as? HTTPURLResponse)?.statusCode == 200, "\(path)")
            if path == "/api/runs/\(id)",
                ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any]).flatMap({ $0["run"] as? [String: Any] })?["status"] as? String
                    == "running"
            {
                answeredWhileRunning += 1
            }
        }
        #expect(answeredWhileRunning > 0, "the API answered during the flood")
        var cancel = URLRequest(url: try #require(URL(string: address + "/api/runs/\(id)/cancel")))
        cancel.httpMethod = "POST"
        _ = try await URLSession.shared.data(for: cancel)
    }

    @Test func aDamagedStoreIsReportedAndLeftUntouched() throws {
        try workspace.pipeline("p", "steps:\n  - {name: a, command: 'true'}\n")
        #expect(try sluice("run", "p").status == 0)
        #expect(try sluice("runs").status == 0)  // checkpoints nothing; the WAL may hold the last commits
        try? FileManager.default.removeItem(atPath: workspace.storePath + "-wal")
        try? FileManager.default.removeItem(atPath: workspace.storePath + "-shm")
        let handle = try #require(FileHandle(forUpdatingAtPath: workspace.storePath))
        try handle.write(contentsOf: Data(repeating: 0x5A, count: 100))
        try handle.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: workspace.storePath))
        for command in [["runs"], ["run", "p"]] {
            let result = try SluiceBinary.run(command, in: workspace.root)
            #expect(result.status == 70)
            #expect(result.stderr.contains("the file is damaged or not an SQLite database; Sluice left it untouched"), "\(result.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: workspace.storePath)) == before)
    }

    @Test func aLockedStoreIsWaitedForThenReportedAndNothingIsLost() throws {
        try workspace.pipeline("p", "steps:\n  - {name: a, command: 'true'}\n")
        #expect(try sluice("run", "p").status == 0)
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = [
            "python3", "-c",
            """
            import sqlite3, sys, time
            db = sqlite3.connect(sys.argv[1], isolation_level=None)
            db.execute("BEGIN EXCLUSIVE")
            print("locked", flush=True)
            sys.stdin.read()
            """, workspace.storePath,
        ]
        let input = Pipe(), output = Pipe()
        holder.standardInput = input
        holder.standardOutput = output
        try holder.run()
        _ = output.fileHandleForReading.availableData  // "locked"
        let blocked = try sluice("run", "p", environment: ["SLUICE_STORE_TIMEOUT": "1s"])
        #expect(blocked.status == 70)
        #expect(blocked.stderr.contains("another process holds the store locked"), "\(blocked.stderr)")
        // Every command, not only `run`: the store's own error is said as what it means, with the store's exit code.
        let marking = try sluice("mark-tested", "p", "a", environment: ["SLUICE_STORE_TIMEOUT": "1s"])
        #expect(marking.status == 70)
        #expect(marking.stderr.contains("another process holds the store locked") && !marking.stderr.contains("SQLite error"), "\(marking.stderr)")
        try input.fileHandleForWriting.close()
        holder.waitUntilExit()
        #expect(try sluice("run", "p").status == 0)
        #expect((try JSONSerialization.jsonObject(with: Data(try sluice("runs", "--json").stdout.utf8)) as? [Any])?.count == 2)
    }

    @Test func aReportThatDoesNotFitSaysTheDiskIsFullAndLeavesNoPartialFile() throws {
        try mount("-t", "tmpfs", "-o", "size=256k", "tmpfs", workspace.root)
        defer { try? mount(umount: workspace.root) }
        let path = workspace.path("summary.json")
        try Data("old\n".utf8).write(to: URL(fileURLWithPath: path))
        var message = ""
        do {
            try AtomicFile.write(to: path) { emit in
                // As the summary does between its pieces: a look for a log that is not there sets errno.
                for _ in 0..<2_000 {
                    emit(String(repeating: "x", count: 1_000))
                    _ = FileManager.default.fileExists(atPath: workspace.path("no-such.log"))
                }
            }
            Issue.record("2 MB fitted in a 256 KB file system")
        } catch {
            message = "\(error)"
        }
        #expect(message.contains("No space left on device"), "\(message)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.root).filter { $0.hasSuffix(".tmp") } == [])
    }

    @Test func aReadOnlyStoreIsReportedAndNothingIsLost() throws {
        try mount("-t", "tmpfs", "-o", "size=8m", "tmpfs", workspace.root)
        defer { try? mount(umount: workspace.root) }
        try workspace.pipeline("p", "steps:\n  - {name: a, command: 'true'}\n")
        #expect(try sluice("run", "p").status == 0)
        try mount("-o", "remount,ro", workspace.root)
        let refused = try sluice("run", "p")
        #expect(refused.status == 70)
        #expect(refused.stderr.contains("Read-only file system"), "\(refused.stderr)")
        try mount("-o", "remount,rw", workspace.root)
        #expect((try JSONSerialization.jsonObject(with: Data(try sluice("runs", "--json").stdout.utf8)) as? [Any])?.count == 1)
        #expect(try Python.sqlite(workspace.storePath, "PRAGMA integrity_check") == "ok")
    }

    private func mount(_ arguments: String...) throws {
        try command("/usr/bin/mount", arguments)
    }

    private func mount(umount path: String) throws {
        try command("/usr/bin/umount", ["-l", path])
    }

    private func command(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestFailure("\(executable) \(arguments.joined(separator: " ")) failed (this test needs root, as CI runs)")
        }
    }
}

import Foundation
import HummingbirdWSClient
import Logging
import SluiceKit
import SluiceTestSupport
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Many short runs started over the API at once while WebSocket listeners follow every event, against the
/// `sluice serve` binary: no run is lost, every listener gets every event once and in order, and the server's memory
/// returns to where it was. The suite runs a short version; `bench/soak.sh` the full one (1,000 runs, 50 clients,
/// 20 listeners), through `SLUICE_SOAK_RUNS`, `SLUICE_SOAK_CLIENTS` and `SLUICE_SOAK_LISTENERS`.
@Suite(.serialized)
struct SoakTests {
    static func setting(_ name: String, _ fallback: Int) -> Int {
        ProcessInfo.processInfo.environment[name].flatMap(Int.init) ?? fallback
    }

    @Test func runsStartedAtOnceAreAllRecordedAndEveryListenerSeesEveryEventInOrder() async throws {
        let runs = Self.setting("SLUICE_SOAK_RUNS", 120), clients = Self.setting("SLUICE_SOAK_CLIENTS", 12)
        let listeners = Self.setting("SLUICE_SOAK_LISTENERS", 6)
        let workspace = try TestWorkspace()
        try workspace.pipeline("tiny", "steps:\n  - {name: one, command: 'true'}\n  - {name: two, command: 'true', depends_on: [one]}\n")
        let server = try SluiceBinary.start(["serve", "--port", "0"], in: workspace.root)
        defer { kill(server.process.processIdentifier, SIGKILL) }
        let address = try #require(String(decoding: server.stdout.availableData, as: UTF8.self).split(separator: " ").last)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let port = try #require(address.split(separator: ":").last.flatMap { Int($0) })

        for _ in 0..<20 { _ = try await start(address) }  // warm-up: caches, pools, the first allocations
        let store = try workspace.store()
        #expect(await idle(address))
        let baseline = residentKiB(server.process.processIdentifier)
        let after = try await store.events(after: 0, runID: nil, limit: 1_000_000).last?.seq ?? 0

        // Listeners first, so that they see everything from `after` on; each stops at its runs-th reports_written, a
        // run's last event.
        let received = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for _ in 0..<listeners { group.addTask { try await listen(port: port, after: after, finishedRuns: runs) } }
            group.addTask {
                try await withThrowingTaskGroup(of: Void.self) { starters in
                    for client in 0..<clients {
                        starters.addTask { for _ in stride(from: client, to: runs, by: clients) { _ = try await start(address) } }
                    }
                    try await starters.waitForAll()
                }
                return []
            }
            var lists: [[Int64]] = []
            for try await list in group where !list.isEmpty { lists.append(list) }
            return lists
        }

        let recorded = try await store.runs(pipeline: "tiny", limit: 10_000, offset: 0)
        #expect(recorded.count == runs + 20, "no run lost")
        #expect(recorded.allSatisfy { $0.status == .success })
        let stored = try await store.events(after: after, runID: nil, limit: 1_000_000).map(\.seq)
        #expect(received.count == listeners)
        for list in received { #expect(list == stored, "every listener got every stored event once, in order") }
        #expect(await idle(address))
        let settled = residentKiB(server.process.processIdentifier)
        print(
            "soak: \(runs) runs from \(clients) clients, \(listeners) listeners, \(stored.count) events each; "
                + "server RSS \(baseline / 1024) MiB before, \(settled / 1024) MiB after")
        #expect(settled < baseline + 32 * 1024, "memory returns to its baseline: \(baseline) KiB before, \(settled) KiB after")
    }

    private func start(_ address: String) async throws -> String {
        var request = URLRequest(url: URL(string: address + "/api/pipelines/tiny/runs")!)
        request.httpMethod = "POST"
        let (data, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 202,
            let id = (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["id"] as? String
        else {
            throw TestFailure("starting a run failed: \(String(decoding: data, as: UTF8.self))")
        }
        return id
    }

    /// The sequence numbers of every event after `after`, until `finishedRuns` runs have finished.
    private func listen(port: Int, after: Int64, finishedRuns: Int) async throws -> [Int64] {
        let seqs = Mutex<[Int64]>([])
        try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/api/events?after=\(after)", logger: Logger(label: "soak")) { inbound, _, _ in
            var finished = 0
            for try await message in inbound.messages(maxSize: 1 << 20) {
                guard case let .text(text) = message,
                    let event = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                    let seq = (event["seq"] as? NSNumber)?.int64Value
                else { continue }
                seqs.withLock { $0.append(seq) }
                if event["kind"] as? String == "reports_written" { finished += 1 }
                if finished == finishedRuns { return }
            }
        }
        return seqs.withLock { $0 }
    }

    /// Waits until the server runs nothing (its health says so).
    private func idle(_ address: String) async -> Bool {
        for _ in 0..<6000 {
            if let (data, _) = try? await URLSession.shared.data(from: URL(string: address + "/api/health")!),
                (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["activeRuns"] as? Int == 0
            {
                return true
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    private func residentKiB(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}

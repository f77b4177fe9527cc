import Foundation
import HummingbirdWSClient
import Logging
import SluiceKit
import SluiceServer
import SluiceTestSupport
import Synchronization
import Testing

/// The WebSocket event stream, against a live server on 127.0.0.1.
struct EventsTests {
    let harness: ServerHarness

    init() throws {
        harness = try ServerHarness(token: "tok")
        try harness.workspace.pipeline(
            "two",
            """
            steps:
              - {name: first, command: 'echo one'}
              - {name: second, command: 'echo two', depends_on: [first]}
            """)
    }

    /// Connects and collects messages until `run_finished`, as decoded JSON objects.
    private func collect(
        port: Int, query: String, token: String = "tok", onOpen: @escaping @Sendable () throws -> Void = {}
    ) async throws -> [[String: Any]] {
        let received = Mutex<[String]>([])
        var configuration = WebSocketClientConfiguration()
        configuration.additionalHeaders = [.authorization: "Bearer \(token)"]
        try await WebSocketClient.connect(
            url: "ws://127.0.0.1:\(port)/api/events?\(query)", configuration: configuration,
            logger: Logger(label: "test")
        ) { inbound, _, _ in
            try onOpen()
            for try await message in inbound.messages(maxSize: 1 << 20) {
                guard case let .text(text) = message else { continue }
                received.withLock { $0.append(text) }
                if text.contains("\"kind\":\"run_finished\"") { return }
            }
        }
        return received.withLock { $0 }.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    @Test func anAfterThatIsNoSequenceNumberIsRefusedBeforeTheUpgrade() async throws {
        try await harness.test(.live) { client in
            let port = try #require(client.port)
            for after in ["-1", "x", "1e3", "99999999999999999999"] {
                let request =
                    [
                        "GET /api/events?after=\(after) HTTP/1.1", "Host: 127.0.0.1:\(port)", "Authorization: Bearer tok", "Connection: Upgrade",
                        "Upgrade: websocket", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                    ].joined(separator: "\r\n") + "\r\n\r\n"
                #expect(try await RawHTTP.exchange(request, port: port).status == 400, "after=\(after)")
            }
        }
    }

    @Test func aClientReceivesEveryTransitionInOrderAndCanResume() async throws {
        try await harness.test(.live) { client in
            let port = try #require(client.client.port)
            let started = try await client.send(.post, "/api/pipelines/two/runs", token: "tok")
            let id = try #require(started.object["id"] as? String)
            let events = try await collect(port: port, query: "run=\(id)&after=0")
            let transitions = events.map { "\($0["kind"] as? String ?? "") \($0["step"] as? String ?? "")" }
            #expect(
                transitions == [
                    "run_started ", "attempt_started first", "attempt_finished first", "step_finished first",
                    "attempt_started second", "attempt_finished second", "step_finished second", "run_finished ",
                ])
            // Enough to update a view without asking for the step: how it ended and how long it took.
            let finished = try #require(events.first { $0["kind"] as? String == "step_finished" })
            #expect(finished["state"] as? String == "succeeded" && finished["exitCode"] as? Int == 0 && finished["attempt"] as? Int == 1)
            #expect((finished["duration"] as? Double ?? 0) > 0, "\(finished)")
            #expect(events.first { $0["kind"] as? String == "attempt_finished" }?["exitCode"] as? Int == 0)
            let seqs = events.compactMap { $0["seq"] as? Int }
            #expect(seqs == seqs.sorted() && Set(seqs).count == seqs.count)

            let resumed = try await collect(port: port, query: "run=\(id)&after=\(seqs[2])")
            #expect(resumed.compactMap { $0["seq"] as? Int } == Array(seqs.dropFirst(3)), "no gap and no repeat after a reconnect")

            // A client that claims more than the store holds (another store, or one emptied since) still hears what happens next.
            try harness.workspace.pipeline("gate", "steps:\n  - {name: wait, command: 'while [ ! -f go ]; do sleep 0.02; done'}\n")
            let gated = try #require(try await client.send(.post, "/api/pipelines/gate/runs", token: "tok").object["id"] as? String)
            let store = try harness.workspace.store()
            #expect(try await eventually { try await store.stepRun(runID: gated, step: "wait")?.state == .running })
            let workspace = harness.workspace
            let later = try await collect(port: port, query: "after=\(Int64.max - 1)") { _ = try workspace.write("go", "") }
            #expect(later.contains { $0["kind"] as? String == "step_finished" && $0["runID"] as? String == gated })

            await #expect(throws: (any Error).self, "the socket needs the token too") {
                _ = try await collect(port: port, query: "run=\(id)", token: "wrong")
            }
        }
    }
}

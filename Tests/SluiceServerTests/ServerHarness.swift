import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import SluiceKit
import SluiceServer
import SluiceTestSupport
import Testing

/// A server over a throw-away workspace, and a client that speaks JSON to it.
struct ServerHarness {
    let workspace: TestWorkspace
    let server: SluiceServer

    init(
        token: String? = nil, workspace: TestWorkspace? = nil, clock: any TriggerClock = SystemClock(),
        configure: (inout SluiceServer.Settings) -> Void = { _ in }
    ) throws {
        // `pipeline:` steps run their child runs with `sluice` itself, not with this test process.
        setenv("SLUICE_BINARY", SluiceBinary.path, 1)
        self.workspace = try workspace ?? TestWorkspace()
        let configuration = try Configuration.load(workspace: self.workspace.root, environment: [:])
        var settings = SluiceServer.Settings(port: 0, token: token)
        configure(&settings)
        server = SluiceServer(
            configuration: configuration, store: try self.workspace.store(), executor: LocalExecutor(gracePeriod: 1),
            settings: settings, clock: clock)
    }

    struct Reply {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var data: Data
        var text: String { String(decoding: data, as: UTF8.self) }
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }
        var object: [String: Any] { json as? [String: Any] ?? [:] }
        var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
        var message: String { (object["error"] as? [String: Any])?["message"] as? String ?? "" }
    }

    /// Runs `body` against the server: through the router, or a live server on 127.0.0.1.
    func test(_ setup: TestingSetup = .router, _ body: @escaping @Sendable (Client) async throws -> Void) async throws {
        try await server.application().test(setup) { client in try await body(Client(client: client)) }
    }

    struct Client: Sendable {
        let client: any TestClientProtocol
        /// The live server's port (nil through the router).
        var port: Int? { client.port }

        func send(_ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil, token: String? = nil) async throws -> Reply {
            var headers: HTTPFields = [:]
            if let token { headers[.authorization] = "Bearer \(token)" }
            if body != nil { headers[.contentType] = "application/json" }
            let response = try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
            return Reply(status: response.status, headers: response.headers, data: Data(buffer: response.body))
        }

        /// POSTs a multipart body to `/api/uploads`.
        func upload(_ body: String, boundary: String?, query: String = "") async throws -> Reply {
            var headers: HTTPFields = [:]
            headers[.contentType] = boundary.map { "multipart/form-data; boundary=\($0)" } ?? "text/plain"
            let response = try await client.execute(uri: "/api/uploads" + query, method: .post, headers: headers, body: ByteBuffer(string: body))
            return Reply(status: response.status, headers: response.headers, data: Data(buffer: response.body))
        }

        /// Polls the run until it is no longer running and its reports are written, a moment after its end is
        /// recorded (the store is the only source of truth across processes).
        func finishedRun(_ id: String, timeout: Double = 30) async throws -> [String: Any] {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                let run = try await send(.get, "/api/runs/\(id)").object
                if let record = run["run"] as? [String: Any], record["status"] as? String != "running",
                    try await send(.get, "/api/runs/\(id)/report").status == .ok
                {
                    return run
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            throw TestFailure("run \(id) did not finish within \(timeout)s")
        }
    }
}

/// The two ways a test reaches the server: Hummingbird's router client (no sockets) and a live server on 127.0.0.1.
struct HTTPSetup: Sendable, CustomTestStringConvertible {
    let value: TestingSetup
    let testDescription: String

    static let both = [HTTPSetup(value: .router, testDescription: "router"), HTTPSetup(value: .live, testDescription: "live")]
}

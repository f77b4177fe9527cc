import Foundation
import Hummingbird
import SluiceKit
import SluiceServer
import SluiceTestSupport
import Testing

/// Who may use the server: the token on every route however its path is written, only this machine's host names,
/// no requests forged by other web pages, bounded connections. Every request is sent as written, over a socket.
@Suite(.serialized)
struct SecurityTests {
    static let token = "s3cret-token"

    /// The ways one path can be written so that the router still finds its route.
    static func disguises(of path: String, port: Int) -> [String] {
        let tail = String(path.dropFirst())
        var written = [
            path, "/" + path, "//" + path, path + "/", path.replacingOccurrences(of: "/", with: "//"), "/." + path,
            "/x/.." + path, "/api/../" + tail, "http://127.0.0.1:\(port)" + path, "http://127.0.0.1:\(port)/" + path,
        ]
        if let slash = tail.firstIndex(of: "/") { written.append("/" + tail[..<slash] + "%2F" + tail[tail.index(after: slash)...]) }
        return written
    }

    static func request(_ method: String, _ target: String, port: Int, headers: [String] = [], body: String = "") -> String {
        let lines = ["\(method) \(target) HTTP/1.1", "Host: 127.0.0.1:\(port)", "Connection: close", "Content-Length: \(body.utf8.count)"] + headers
        return lines.joined(separator: "\r\n") + "\r\n\r\n" + body
    }

    @Test func everyDocumentedRouteNeedsTheTokenHoweverItsPathIsWritten() async throws {
        let harness = try ServerHarness(token: Self.token)
        try harness.workspace.pipeline("p", "steps:\n  - {name: s, command: 'true'}\n")
        try await harness.test(.live) { client in
            let port = try #require(client.port)
            let document = try await client.send(.get, "/api/openapi.json", token: Self.token).object
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            var tried = 0
            for (template, operations) in paths.sorted(by: { $0.key < $1.key }) where !AccessPolicyExpectations.publicPaths.contains(template) {
                let path = template.replacingOccurrences(of: "{pipeline}", with: "p").replacingOccurrences(of: "{step}", with: "s")
                    .replacingOccurrences(of: "{run}", with: "r1").replacingOccurrences(of: "{path}", with: "x.txt")
                for method in operations.keys.map({ $0.uppercased() }) {
                    let upgrade =
                        path == "/api/events"
                        ? [
                            "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13",
                            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                        ] : []
                    for target in Self.disguises(of: path, port: port) + (path == "/api/events" ? [path + "?access_token=wrong"] : []) {
                        let reply = try await RawHTTP.exchange(Self.request(method, target, port: port, headers: upgrade), port: port)
                        #expect(reply.status == 401, "\(method) \(target) answered \(reply.status) without the token")
                        tried += 1
                    }
                }
            }
            #expect(tried > 250, "every route and /metrics, each written \(Self.disguises(of: "/a/b", port: port).count) ways")
            // The UI's own files stay public, written exactly; with the token, a route answers.
            for asset in AccessPolicyExpectations.publicPaths {
                #expect(try await RawHTTP.exchange(Self.request("GET", asset, port: port), port: port).status == 200)
            }
            let authorized = try await RawHTTP.exchange(
                Self.request("GET", "//api/config", port: port, headers: ["Authorization: Bearer \(Self.token)"]), port: port)
            #expect(authorized.status == 200)
        }
    }

    @Test func onlyThisMachinesHostNamesAreAnswered() async throws {
        let harness = try ServerHarness { $0.allowedHosts = ["sluice.internal"] }
        try harness.workspace.pipeline("p", "steps:\n  - {name: s, command: 'true'}\n")
        try await harness.test(.live) { client in
            let port = try #require(client.port)
            func status(_ method: String, _ path: String, host: String, body: String = "", type: String = "application/json") async throws -> Int {
                let lines = [
                    "\(method) \(path) HTTP/1.1", "Host: \(host)", "Connection: close", "Content-Type: \(type)", "Content-Length: \(body.utf8.count)",
                ]
                return try await RawHTTP.exchange(lines.joined(separator: "\r\n") + "\r\n\r\n" + body, port: port).status
            }
            for host in [
                "evil.example:\(port)", "evil.example", "[::1]junk", "[::1]:\(port)x", "127.0.0.1.nip.io:\(port)", "localhost.evil.example",
                "sluice.internal.evil",
            ] {
                #expect(try await status("GET", "/api/config", host: host) == 403, "\(host)")
                #expect(try await status("GET", "/api/runs", host: host) == 403, "\(host)")
                #expect(try await status("PUT", "/api/pipelines/p/paused", host: host, body: #"{"paused": true}"#) == 403, "\(host)")
            }
            #expect(try await status("GET", "http://evil.example:\(port)/api/config", host: "127.0.0.1:\(port)") == 403, "absolute form")
            for host in ["127.0.0.1:\(port)", "localhost:\(port)", "LOCALHOST.", "[::1]:\(port)", "10.1.2.3:\(port)", "sluice.internal:\(port)"] {
                #expect(try await status("GET", "/api/config", host: host) == 200, "\(host)")
            }
            #expect(try await harness.workspace.store().pausedPipelines().isEmpty)
        }
    }

    @Test func requestsThatOtherWebPagesCouldForgeAreRefused() async throws {
        let harness = try ServerHarness()
        try harness.workspace.pipeline("p", "steps:\n  - {name: s, command: 'true'}\n")
        try harness.workspace.write("uploads/data.csv", "original")
        try await harness.test(.live) { client in
            let port = try #require(client.port)
            let evil = "Origin: http://evil.example"
            let form = "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"data.csv\"\r\n\r\nreplaced\r\n--B--\r\n"
            let attempts: [(String, String, [String], String)] = [
                ("POST", "/api/pipelines/p/runs", [evil, "Content-Type: text/plain"], "{}"),
                ("POST", "/api/pipelines/p/runs", [evil, "Content-Type: application/x-www-form-urlencoded"], "a=b"),
                ("POST", "/api/pipelines/p/runs", [evil], ""),
                ("POST", "/api/pipelines/p/runs", [evil, "Content-Type: application/json"], "{}"),
                ("POST", "/api/pipelines/p/runs", ["Origin: null", "Content-Type: application/json"], "{}"),
                ("POST", "/api/pipelines/p/steps/s/run", [evil, "Content-Type: text/plain"], "{}"),
                ("POST", "/api/pipelines/p/backfill", [evil, "Content-Type: text/plain"], #"{"from": "2026-01-01", "to": "2026-01-02"}"#),
                ("POST", "/api/runs/r1/cancel", [evil], ""),
                ("POST", "/api/runs/r1/retry", [evil, "Content-Type: text/plain"], "x"),
                ("PUT", "/api/pipelines/p/paused", [evil, "Content-Type: application/json"], #"{"paused": true}"#),
                ("POST", "/api/uploads", [evil, "Content-Type: multipart/form-data; boundary=B"], form),
                ("GET", "/api/config", [evil], ""),
                ("POST", "/api/pipelines/p/runs", ["Origin: chrome-extension://abcdefghijklmnop"], ""),
                ("POST", "/api/pipelines/p/runs", ["Origin: moz-extension://1234-uuid"], ""),
                ("POST", "/api/pipelines/p/runs", ["Origin: app://electron"], ""),
                ("POST", "/api/pipelines/p/runs", ["Origin: file://"], ""),
                ("POST", "/api/pipelines/p/runs", ["Origin: ws://evil.example"], ""),
                (
                    "POST", "/api/uploads?overwrite=true",
                    ["Origin: chrome-extension://abcdefghijklmnop", "Content-Type: multipart/form-data; boundary=B"], form
                ),
            ]
            for (method, path, headers, body) in attempts {
                let reply = try await RawHTTP.exchange(Self.request(method, path, port: port, headers: headers, body: body), port: port)
                #expect(reply.status == 403, "\(method) \(path) \(headers) answered \(reply.status)")
                #expect(reply.body.contains("allowed_origins"), "the refusal says what to do: \(reply.body)")
            }
            // Without an Origin (curl, scripts), a body that is not JSON is still refused: no page can send JSON elsewhere unasked.
            for type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=B"] {
                let reply = try await RawHTTP.exchange(
                    Self.request("POST", "/api/pipelines/p/runs", port: port, headers: ["Content-Type: \(type)"], body: "{}"), port: port)
                #expect(reply.status == 415, "\(type): \(reply.status)")
            }
            #expect(try await harness.workspace.store().runs(pipeline: nil, limit: 10, offset: 0).isEmpty, "no run started")
            #expect(try harness.workspace.read("uploads/data.csv") == "original")
            #expect(try await harness.workspace.store().pausedPipelines().isEmpty)
            // The server's own pages, and clients that send no Origin, work.
            let own = try await RawHTTP.exchange(
                Self.request(
                    "POST", "/api/pipelines/p/runs", port: port,
                    headers: ["Origin: http://127.0.0.1:\(port)", "Content-Type: application/json"], body: "{}"), port: port)
            #expect(own.status == 202)
            #expect(try await client.send(.post, "/api/pipelines/p/runs", "{}").status == .accepted)
        }
    }

    @Test func theEventStreamRefusesOtherPagesBadTokensAndTooManySockets() async throws {
        let harness = try ServerHarness(token: Self.token) { $0.maxWebSockets = 2 }
        try await harness.test(.live) { client in
            let port = try #require(client.port)
            let upgrade = ["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]
            let good = "Authorization: Bearer \(Self.token)"
            for origin in ["http://evil.example", "moz-extension://1234-uuid", "null"] {
                let foreign = try await RawHTTP.exchange(
                    Self.request("GET", "/api/events", port: port, headers: upgrade + [good, "Origin: \(origin)"]), port: port)
                #expect(foreign.status == 403, "\(origin)")
            }
            let wrong = try await RawHTTP.exchange(Self.request("GET", "/api/events?access_token=nope", port: port, headers: upgrade), port: port)
            #expect(wrong.status == 401)
            #expect(wrong.header("content-type")?.hasPrefix("application/json") == true)
            #expect(wrong.body.contains("Bearer"), "a JSON error that says what is needed: \(wrong.body)")
            // Two sockets stay open; the third is told to come back later, and gets in once one closes.
            let open = Self.request("GET", "/api/events", port: port, headers: upgrade + [good])
            let first = try OpenSocket(
                port: port, request: Self.request("GET", "/api/events?access_token=\(Self.token)", port: port, headers: upgrade))
            let second = try OpenSocket(port: port, request: open)
            #expect(try await first.status() == 101)
            #expect(try await second.status() == 101)
            let third = try await RawHTTP.exchange(open, port: port)
            #expect(third.status == 503)
            #expect(third.header("retry-after") == "5")
            first.close()
            var fourth: OpenSocket?
            #expect(
                try await eventually {
                    let socket = try OpenSocket(port: port, request: open)
                    guard try await socket.status() == 101 else {
                        socket.close()
                        return false
                    }
                    fourth = socket
                    return true
                }, "a closed socket frees its place")
            second.close()
            fourth?.close()
        }
    }

    @Test func slowAndOversizedHeadsAreCutOff() async throws {
        let harness = try ServerHarness { $0.headerTimeout = .seconds(1) }
        try await harness.test(.live) { client in
            let port = try #require(client.port)
            #expect(try await RawHTTP.isClosedByServer(afterSending: "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ", port: port))
            #expect(try await RawHTTP.isClosedByServer(afterSending: "", port: port), "a connection that sends nothing")
            let big = try await RawHTTP.exchange(
                Self.request("GET", "/api/health", port: port, headers: ["X-Big: " + String(repeating: "a", count: 90 << 10)]), port: port)
            #expect(big.status == 431)
            #expect(big.body.contains("too large"))
            let many = try await RawHTTP.exchange(
                Self.request("GET", "/api/health", port: port, headers: (0..<1000).map { "X-H\($0): v" }), port: port)
            #expect(many.status == 431)
            #expect(try await RawHTTP.exchange(Self.request("GET", "/api/health", port: port), port: port).status == 200, "the server is fine")
        }
    }

    @Test func pagesForbidFramingAndDownloadsKeepTheirExactNames() async throws {
        let harness = try ServerHarness()
        let workspace = harness.workspace
        try workspace.pipeline(
            "names",
            #"""
            steps:
              - name: write
                command: 'printf a > "$SLUICE_OUTPUTS_DIR/sp ace.txt"; printf b > "$SLUICE_OUTPUTS_DIR/données.csv"; printf c > "$SLUICE_OUTPUTS_DIR/evil\";x=.html"'
            """#)
        try await harness.test(.live) { client in
            let port = try #require(client.port)
            let id = try #require(try await client.send(.post, "/api/pipelines/names/runs", "{}").object["id"] as? String)
            _ = try await client.finishedRun(id)
            for page in ["/", "/api/runs/\(id)/report"] {
                let reply = try await RawHTTP.exchange(Self.request("GET", page, port: port), port: port)
                #expect(reply.status == 200)
                #expect(reply.header("content-security-policy")?.contains("frame-ancestors 'none'") == true, "\(page)")
                #expect(reply.header("x-frame-options") == "DENY", "\(page)")
            }
            #expect(try workspace.read("runs/\(id)/report.html").contains("http-equiv=\"Content-Security-Policy\""), "the file opened from disk too")
            // Werkzeug reads Content-Disposition as RFC 6266 and RFC 8187 say (filename* first); each name comes back exactly.
            let names = try Python.run(
                [
                    "-c",
                    """
                    import sys, urllib.request, urllib.parse, werkzeug.http
                    for name in sys.argv[2:]:
                        with urllib.request.urlopen(sys.argv[1] + urllib.parse.quote(name)) as answer:
                            _, options = werkzeug.http.parse_options_header(answer.headers["Content-Disposition"])
                            print(repr(options["filename"]), answer.read().decode())
                    """, "http://127.0.0.1:\(port)/api/runs/\(id)/outputs/", "sp ace.txt", "données.csv", #"evil";x=.html"#,
                ],
                interpreter: Python.tools
            ).output
            #expect(names == "'sp ace.txt' a\n'données.csv' b\n'evil\";x=.html' c\n")
            for escape in ["%2E%2E/%2E%2E/pipelines/names.yaml", "..%2F..%2Fpipelines%2Fnames.yaml", "%zz"] {
                #expect(try await client.send(.get, "/api/runs/\(id)/outputs/\(escape)").status == .notFound, "\(escape)")
            }
        }
    }

    @Test func aSecretInAnOutputsNameIsMaskedInTheListing() async throws {
        let harness = try ServerHarness()
        try harness.workspace.write(".sluice/secrets.env", "API_KEY=k-5521-secret\n")
        chmod(harness.workspace.path(".sluice/secrets.env"), 0o600)
        try harness.workspace.pipeline(
            "leaky",
            """
            secrets: [API_KEY]
            steps:
              - {name: a, command: 'echo x > "$SLUICE_OUTPUTS_DIR/report-$API_KEY.txt"'}
            """)
        try await harness.test { client in
            let id = try #require(try await client.send(.post, "/api/pipelines/leaky/runs", "{}").object["id"] as? String)
            _ = try await client.finishedRun(id)
            let listed = try await client.send(.get, "/api/runs/\(id)/outputs")
            #expect(listed.array.map { $0["path"] as? String } == ["report-***.txt"])
            #expect(!listed.text.contains("k-5521-secret"))
        }
    }

    @Test func uploadsReplaceAFileOnlyWhenAsked() async throws {
        let harness = try ServerHarness()
        @Sendable func form(_ content: String) -> String {
            "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.csv\"\r\n\r\n\(content)\r\n--XyZ--\r\n"
        }
        try await harness.test { client in
            #expect(try await client.upload(form("first"), boundary: "XyZ").status == .created)
            let refused = try await client.upload(form("second"), boundary: "XyZ")
            #expect(refused.status == .conflict)
            #expect(refused.message.contains("?overwrite=true"))
            #expect(try harness.workspace.read("uploads/in.csv") == "first")
            #expect(try await client.upload(form("third"), boundary: "XyZ", query: "?overwrite=true").status == .created)
            #expect(try harness.workspace.read("uploads/in.csv") == "third")
            let twice =
                "--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"new.csv\"\r\n\r\n1\r\n"
                + "--XyZ\r\nContent-Disposition: form-data; name=\"b\"; filename=\"new.csv\"\r\n\r\n2\r\n--XyZ--\r\n"
            #expect(try await client.upload(twice, boundary: "XyZ").message.contains("holds 'new.csv' twice"))
            let cut = "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\r\nb\"\r\n\r\nx\r\n--XyZ--\r\n"
            #expect(try await client.upload(cut, boundary: "XyZ").status == .badRequest, "a name cut by a line break is no name")
            let many =
                (0...100).map { "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f\($0).csv\"\r\n\r\nx\r\n" }.joined() + "--XyZ--\r\n"
            #expect(try await client.upload(many, boundary: "XyZ").message.contains("more than 100 files"))
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: harness.workspace.path("uploads"))
            #expect(leftovers == ["in.csv"], "no temporary file left behind, nothing half published")
        }
    }

    @Test func loopbackIsDecidedOnWhatTheNameResolvesTo() {
        #expect(SluiceServer.Settings(host: "127.0.0.1.nip.io").problem?.contains("without a token") == true)
        #expect(SluiceServer.Settings(host: "0.0.0.0").problem?.contains("without a token") == true)
        #expect(SluiceServer.Settings(host: "0.0.0.0", token: "t").problem == nil)
        for loopback in ["127.0.0.1", "127.0.0.2", "localhost", "::1"] {
            #expect(SluiceServer.Settings(host: loopback).problem == nil, "\(loopback)")
        }
    }
}

/// What the tests expect public, written out so that a change to the server's list shows here.
enum AccessPolicyExpectations {
    static let publicPaths = ["/", "/app.js", "/run.js", "/charts.js", "/style.css"]
}

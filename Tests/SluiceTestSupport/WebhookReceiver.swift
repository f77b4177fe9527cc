import Foundation

/// A real HTTP server on 127.0.0.1 (Python's http.server) that saves every POSTed body as a file;
/// it answers 503 to the first `failFirst` requests, to exercise retries.
public final class WebhookReceiver: @unchecked Sendable {
    public let url: String
    private let process: Process
    private let folder: String
    /// The workspace folder the bodies are saved in.
    public var folderName: String { (folder as NSString).lastPathComponent }

    public init(in workspace: TestWorkspace, failFirst: Int = 0) throws {
        folder = workspace.path("received-\(UUID().uuidString.prefix(8))")
        let script = try workspace.write(
            "webhook_receiver.py",
            """
            import http.server, os, sys
            folder, fail_first = sys.argv[1], int(sys.argv[2])
            os.makedirs(folder, exist_ok=True)
            count = 0
            class Handler(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    global count
                    count += 1
                    body = self.rfile.read(int(self.headers["Content-Length"]))
                    if count <= fail_first:
                        self.send_response(503); self.end_headers(); return
                    with open(os.path.join(folder, f"{count}.json"), "wb") as out: out.write(body)
                    self.send_response(200); self.end_headers()
                def log_message(self, *args): pass
            server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
            with open(os.path.join(folder, "port.tmp"), "w") as out: out.write(str(server.server_address[1]))
            os.rename(os.path.join(folder, "port.tmp"), os.path.join(folder, "port"))
            server.serve_forever()
            """)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script, folder, String(failFirst)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let portFile = folder + "/port"
        guard waitUntil(timeout: 20, { FileManager.default.fileExists(atPath: portFile) }),
            let port = try? String(contentsOfFile: portFile, encoding: .utf8)
        else {
            kill(process.processIdentifier, SIGKILL)
            throw TestFailure("the webhook receiver did not start")
        }
        url = "http://127.0.0.1:\(port)/hook"
    }

    /// The bodies received so far, in order.
    public func bodies() throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }
        return try names.sorted { Int($0.dropLast(5))! < Int($1.dropLast(5))! }
            .map { try String(contentsOfFile: folder + "/" + $0, encoding: .utf8) }
    }

    /// Kills the server (SIGKILL: the test runner's children may inherit SIGTERM blocked).
    public func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { if process.isRunning { stop() } }
}

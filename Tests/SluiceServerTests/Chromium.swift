import Foundation
import HummingbirdWSClient
import Logging
import SluiceTestSupport
import Synchronization
import Testing

/// Headless Chromium with its DevTools endpoint on a free port.
final class Chromium: @unchecked Sendable {
    private let process = Process()
    private let port: Int

    init(url: String, profile: String, arguments: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/chromium")
        process.arguments =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--window-size=1280,900",
                "--remote-debugging-port=0", "--remote-allow-origins=*", "--user-data-dir=\(profile)",
            ] + arguments + [url]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Chromium prints "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID" on standard error.
        var printed = ""
        while !printed.contains("DevTools listening on") {
            let chunk = errors.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw TestFailure("chromium ended: \(printed)") }
            printed += String(decoding: chunk, as: UTF8.self)
        }
        guard let line = printed.split(separator: "\n").first(where: { $0.contains("DevTools listening on") }),
            let browser = line.split(separator: " ").last, let port = browser.split(separator: ":").last?.split(separator: "/").first,
            let number = Int(port)
        else {
            throw TestFailure("no DevTools address in: \(printed)")
        }
        self.port = number
    }

    /// The DevTools socket of the page Chromium opened.
    private func pageSocket() throws -> String {
        let targets = try JSONSerialization.jsonObject(with: Data(try devTools("list").utf8)) as? [[String: Any]] ?? []
        guard let socket = targets.first(where: { $0["type"] as? String == "page" })?["webSocketDebuggerUrl"] as? String else {
            throw TestFailure("no page target in \(targets)")
        }
        return socket
    }

    /// A request to the DevTools HTTP endpoint (`/json/...`).
    private func devTools(_ path: String, method: String = "GET") throws -> String {
        // Chromium's answer has no space after header colons, which Foundation's HTTP client refuses; Python reads it.
        try Python.run([
            "-c",
            """
            import sys, urllib.request
            request = urllib.request.Request(sys.argv[1], method=sys.argv[2])
            sys.stdout.write(urllib.request.urlopen(request).read().decode())
            """, "http://127.0.0.1:\(port)/json/\(path)", method,
        ]).output
    }

    /// Opens another tab on `url`; pass what it returns to ``session(_:_:)``.
    func openTab(_ url: String) throws -> String {
        let target = try JSONSerialization.jsonObject(with: Data(try devTools("new?" + url, method: "PUT").utf8)) as? [String: Any]
        guard let socket = target?["webSocketDebuggerUrl"] as? String else { throw TestFailure("no new tab: \(String(describing: target))") }
        return socket
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Runs `body` with a connection to the page Chromium opened, or to the tab `socket` names.
    func session(_ socket: String? = nil, _ body: @escaping @Sendable (Page) async throws -> Void) async throws {
        let failure = Mutex<(any Error)?>(nil)
        try await WebSocketClient.connect(url: try socket ?? pageSocket(), configuration: .init(maxFrameSize: 1 << 24), logger: Logger(label: "cdp"))
        { inbound, outbound, _ in
            do { try await body(Page(inbound: inbound.messages(maxSize: 1 << 26).makeAsyncIterator(), outbound: outbound)) } catch {
                failure.withLock { $0 = error }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
    }

    /// The DevTools protocol, one command at a time.
    final class Page: @unchecked Sendable {
        private var inbound: WebSocketInboundMessageStream.AsyncIterator
        private let outbound: WebSocketOutboundWriter
        private var next = 0

        init(inbound: WebSocketInboundMessageStream.AsyncIterator, outbound: WebSocketOutboundWriter) {
            self.inbound = inbound
            self.outbound = outbound
        }

        func send(_ method: String, _ parameters: [String: Any] = [:]) async throws -> [String: Any] {
            next += 1
            let id = next
            let command = try JSONSerialization.data(withJSONObject: ["id": id, "method": method, "params": parameters])
            try await outbound.write(.text(String(decoding: command, as: UTF8.self)))
            while let message = try await inbound.next() {
                guard case let .text(text) = message,
                    let reply = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], reply["id"] as? Int == id
                else { continue }
                if let error = reply["error"] { throw TestFailure("\(method): \(error)") }
                return reply["result"] as? [String: Any] ?? [:]
            }
            throw TestFailure("the browser closed the connection")
        }

        /// The value of a JavaScript expression, converted to text in the page.
        func evaluate(_ expression: String) async throws -> String {
            let result = try await send("Runtime.evaluate", ["expression": "String(\(expression))", "returnByValue": true])
            return (result["result"] as? [String: Any])?["value"] as? String ?? ""
        }

        /// Polls a condition in the page (the UI updates on its own; the test only looks).
        func waitFor(_ condition: String, timeout: Double = 30) async throws -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if try await evaluate("Boolean(\(condition))") == "true" { return true }
                try await Task.sleep(for: .milliseconds(50))
            }
            return false
        }

        /// Evaluates `expression`, waiting for the promise it gives, and returns its value as text.
        func evaluateAsync(_ expression: String) async throws -> String {
            let result = try await send(
                "Runtime.evaluate",
                [
                    "expression": "Promise.resolve(\(expression)).then(String)", "awaitPromise": true,
                    "returnByValue": true,
                ])
            return (result["result"] as? [String: Any])?["value"] as? String ?? ""
        }

        /// Lays the page out `width` CSS pixels wide, as a phone would.
        func setWidth(_ width: Int) async throws {
            _ = try await send("Emulation.setDeviceMetricsOverride", ["width": width, "height": 900, "deviceScaleFactor": 1, "mobile": true])
        }

        /// The accessibility tree's controls (buttons, fields, checkboxes, menus), with the names a screen reader reads.
        func controls() async throws -> [(role: String, name: String)] {
            let tree = try await send("Accessibility.getFullAXTree")
            let roles: Set = [
                "button", "textbox", "checkbox", "combobox", "spinbutton", "listbox", "searchbox", "radio", "switch", "slider", "date", "Date",
                "DateTime", "InputTime",
            ]
            return (tree["nodes"] as? [[String: Any]] ?? []).compactMap { node in
                guard node["ignored"] as? Bool != true, let role = (node["role"] as? [String: Any])?["value"] as? String, roles.contains(role) else {
                    return nil
                }
                return (role, (node["name"] as? [String: Any])?["value"] as? String ?? "")
            }
        }

        func screenshot() async throws -> Data {
            let result = try await send("Page.captureScreenshot", ["format": "png"])
            return Data(base64Encoded: result["data"] as? String ?? "") ?? Data()
        }
    }
}

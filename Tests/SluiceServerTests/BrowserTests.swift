import Foundation
import HummingbirdWSClient
import Logging
import SluiceKit
import SluiceTestSupport
import Synchronization
import Testing

/// The web UI in a real browser: headless Chromium, driven over the DevTools protocol, against `sluice serve`.
/// Serialized: it starts processes with Foundation's `Process` (see ``CommandLineTests``).
@Suite(.serialized)
struct BrowserTests {
    @Test func theUIStartsAPipelineAndShowsAStepTurnFromRunningToSucceededWithoutReloading() async throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline("live", """
            description: waits for a file
            steps:
              - {name: wait, command: 'for i in $(seq 600); do test -f go && exit 0; sleep 0.05; done; exit 1'}
            """)
        let server = try SluiceBinary.start(["serve", "--port", "0"], in: workspace.root)
        defer { kill(server.process.processIdentifier, SIGKILL) }
        let address = try #require(String(decoding: server.stdout.availableData, as: UTF8.self).split(separator: " ").last)
            .trimmingCharacters(in: .whitespacesAndNewlines)

        let browser = try Chromium(url: address + "/#/pipelines/live", profile: workspace.path("chromium"))
        defer { browser.stop() }
        try await browser.session { page in
            #expect(try await page.waitFor("document.querySelector('form.params button.primary') !== null"))
            _ = try await page.evaluate("(window.sameDocument = 'yes', document.querySelector('form.params button.primary').click())")
            #expect(try await page.waitFor("document.querySelector('tr[data-step=\"wait\"]')?.dataset.state === 'running'"))
            try workspace.write("go", "")
            #expect(try await page.waitFor("document.querySelector('tr[data-step=\"wait\"]')?.dataset.state === 'succeeded'"))
            let history = try await page.evaluate("document.querySelector('tr[data-step=\"wait\"]').dataset.history")
            #expect(history.hasSuffix("running succeeded"), "saw the step running, then succeeded: \(history)")
            #expect(try await page.evaluate("window.sameDocument") == "yes", "the page was not reloaded")
            #expect(try await page.evaluate("location.hash").hasPrefix("#/runs/"))
            let screenshot = try await page.screenshot()
            try screenshot.write(to: URL(fileURLWithPath: workspace.path("ui.png")))
            #expect(screenshot.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG")
        }
    }

    @Test func aPipelinePageShowsItsNextTimePausesAndBackfills() async throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline("sales", """
            params: {day: {type: date, required: true}}
            schedule: {cron: "30 6 * * *", timezone: Asia/Tokyo, params: {day: "{{ schedule.date }}"}}
            steps:
              - {name: a, command: 'echo "$DAY"'}
            """)
        let server = try SluiceBinary.start(["serve", "--port", "0"], in: workspace.root)
        defer { kill(server.process.processIdentifier, SIGKILL) }
        let address = try #require(String(decoding: server.stdout.availableData, as: UTF8.self).split(separator: " ").last)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let browser = try Chromium(url: address + "/#/pipelines/sales", profile: workspace.path("chromium"))
        defer { browser.stop() }
        let expected = try CronExpression("30 6 * * *").next(after: Date(), in: TimeZone(identifier: "Asia/Tokyo")!)!
        try await browser.session { page in
            #expect(try await page.waitFor("document.querySelector('tr[data-trigger=\"schedule\"] td.next') !== null"))
            let shown = try await page.evaluate("document.querySelector('tr[data-trigger=\"schedule\"] td.next').textContent")
            let local = try await page.evaluate("new Date(\(expected.timeIntervalSince1970 * 1000)).toLocaleString()")
            #expect(shown == local, "the next time, 06:30 in Tokyo, shown in the browser's time")
            _ = try await page.evaluate("document.getElementById('pause').click()")
            #expect(try await page.waitFor("document.getElementById('pause')?.textContent === 'Resume schedules'"))
            #expect(try await page.evaluate("document.querySelector('tr[data-trigger=\"schedule\"] td.next').textContent") == "paused")
            _ = try await page.evaluate("""
                (document.getElementById('bf-from').value = '2026-10-01', document.getElementById('bf-to').value = '2026-10-03',
                 document.getElementById('bf-max').value = '2', document.querySelector('#backfill button').click())
                """)
            #expect(try await page.waitFor("document.getElementById('backfill-result').textContent.startsWith('3 runs queued')"))
            #expect(try await page.waitFor("document.querySelectorAll('#recent tr[data-run]').length === 3"))
        }
        #expect(try await SQLiteRunStore(path: workspace.storePath).pausedPipelines().keys.sorted() == ["sales"])
    }

    @Test func aFailedRunOpensOnTheLogOfTheStepThatFailedAndResumes() async throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline("broken", """
            steps:
              - {name: fine, command: 'echo all good'}
              - {name: fails, command: 'test -f fixed || { echo "the cause is here"; exit 4; }', depends_on: [fine]}
            """)
        let run = try SluiceBinary.run(["run", "broken"], in: workspace.root)
        let id = try #require(run.stdout.split(separator: " ").dropFirst().first.map(String.init))
        let server = try SluiceBinary.start(["serve", "--port", "0"], in: workspace.root)
        defer { kill(server.process.processIdentifier, SIGKILL) }
        let address = try #require(String(decoding: server.stdout.availableData, as: UTF8.self).split(separator: " ").last)
            .trimmingCharacters(in: .whitespacesAndNewlines)

        let browser = try Chromium(url: address + "/#/runs/\(id)", profile: workspace.path("chromium"))
        defer { browser.stop() }
        try await browser.session { page in
            #expect(try await page.waitFor("document.getElementById('log')?.textContent.includes('the cause is here')"))
            #expect(try await page.evaluate("location.hash") == "#/runs/\(id)/fails", "a link to this log")
            _ = try await page.evaluate("document.querySelector('tr[data-step=\"fine\"] a.show-log').click()")
            #expect(try await page.waitFor("document.getElementById('log').textContent.includes('all good')"))
            #expect(try await page.evaluate("location.hash") == "#/runs/\(id)/fine")
            try workspace.write("fixed", "")
            _ = try await page.evaluate("document.getElementById('resume').click()")
            #expect(try await page.waitFor("document.querySelector('tr[data-step=\"fails\"]')?.dataset.state === 'succeeded'"))
        }
    }
}

/// Headless Chromium with its DevTools endpoint on a free port.
final class Chromium: @unchecked Sendable {
    private let process = Process()
    private let port: Int

    init(url: String, profile: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/chromium")
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--window-size=1280,900",
                             "--remote-debugging-port=0", "--remote-allow-origins=*", "--user-data-dir=\(profile)", url]
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
              let number = Int(port) else {
            throw TestFailure("no DevTools address in: \(printed)")
        }
        self.port = number
    }

    /// The DevTools socket of the page Chromium opened.
    private func pageSocket() throws -> String {
        // Chromium's answer has no space after header colons, which Foundation's HTTP client refuses; Python reads it.
        let list = try Python.run(["-c", "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())",
                                   "http://127.0.0.1:\(port)/json/list"]).output
        let targets = try JSONSerialization.jsonObject(with: Data(list.utf8)) as? [[String: Any]] ?? []
        guard let socket = targets.first(where: { $0["type"] as? String == "page" })?["webSocketDebuggerUrl"] as? String else {
            throw TestFailure("no page target in \(targets)")
        }
        return socket
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Runs `body` with a connection to the page.
    func session(_ body: @escaping @Sendable (Page) async throws -> Void) async throws {
        let failure = Mutex<(any Error)?>(nil)
        try await WebSocketClient.connect(url: try pageSocket(), configuration: .init(maxFrameSize: 1 << 24), logger: Logger(label: "cdp")) { inbound, outbound, _ in
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
                      let reply = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], reply["id"] as? Int == id else { continue }
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

        func screenshot() async throws -> Data {
            let result = try await send("Page.captureScreenshot", ["format": "png"])
            return Data(base64Encoded: result["data"] as? String ?? "") ?? Data()
        }
    }
}

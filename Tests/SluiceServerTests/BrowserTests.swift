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
        try workspace.pipeline(
            "live",
            """
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
        try workspace.pipeline(
            "sales",
            """
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
            let tokyo = try await page.evaluate(
                """
                new Intl.DateTimeFormat(undefined, {year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
                                                    timeZoneName: "short", timeZone: "Asia/Tokyo"})
                  .format(new Date(\(expected.timeIntervalSince1970 * 1000)))
                """)
            #expect(
                shown == tokyo && shown.contains("06:30") && shown.contains("GMT+9"),
                "the next time, 06:30, in the schedule's zone, which is named: \(shown)")
            _ = try await page.evaluate("document.getElementById('pause').click()")
            #expect(try await page.waitFor("document.getElementById('pause')?.textContent === 'Resume schedules'"))
            #expect(try await page.evaluate("document.querySelector('tr[data-trigger=\"schedule\"] td.next').textContent") == "paused")
            _ = try await page.evaluate(
                """
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
        try workspace.pipeline(
            "broken",
            """
            steps:
              - {name: fine, command: 'echo all good'}
              - {name: fails, command: 'test -f fixed || { echo "the cause is here"; exit 4; }', depends_on: [fine]}
            """)
        let run = try await SluiceBinary.run(["run", "broken"], in: workspace.root)
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
            _ = try await page.evaluate("document.querySelector('tr[data-step=\"fine\"] button.show-log').click()")
            #expect(try await page.waitFor("document.getElementById('log').textContent.includes('all good')"))
            #expect(try await page.evaluate("location.hash") == "#/runs/\(id)/fine")
            try workspace.write("fixed", "")
            _ = try await page.evaluate("document.getElementById('resume').click()")
            #expect(try await page.waitFor("document.querySelector('tr[data-step=\"fails\"]')?.dataset.state === 'succeeded'"))
            #expect(try await page.waitFor("document.getElementById('resume').disabled"), "a run that succeeded has nothing to resume")
        }
    }

    /// A fan-out is one row that counts its instances by state and opens onto them; the one with the failed
    /// instance opens by itself, on that instance's log.
    @Test func aFanOutIsOneRowWithCountsThatOpensOntoItsInstances() async throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline(
            "fan",
            """
            steps:
              - {name: map, foreach: [a, b, c, d], command: 'echo "item $SLUICE_ITEM"; echo "seen=<b>$SLUICE_ITEM</b>" >> "$SLUICE_OUTPUT"; test "$SLUICE_ITEM" != c'}
              - {name: grid, matrix: {x: ["1", "2"], y: ["1", "2", "3"]}, command: 'true'}
            """)
        let run = try await SluiceBinary.run(["run", "fan", "--continue-on-error"], in: workspace.root)
        let id = try #require(run.stdout.split(separator: " ").dropFirst().first.map(String.init))
        let server = try SluiceBinary.start(["serve", "--port", "0"], in: workspace.root)
        defer { kill(server.process.processIdentifier, SIGKILL) }
        let address = try #require(String(decoding: server.stdout.availableData, as: UTF8.self).split(separator: " ").last)
            .trimmingCharacters(in: .whitespacesAndNewlines)

        let browser = try Chromium(url: address + "/#/runs/\(id)", profile: workspace.path("chromium"))
        defer { browser.stop() }
        try await browser.session { page in
            #expect(try await page.waitFor("document.getElementById('log')?.textContent.includes('item c')"))
            let visible = "[...document.querySelectorAll('tr.instance:not([hidden])')].map((r) => r.dataset.step).join(' ')"
            let mapRow = "document.querySelector('tr.fan-out[data-fan-out=\"map\"]')"
            #expect(try await page.evaluate("\(mapRow).textContent").contains("3/4 succeeded, 1 failed (4 instances)"))
            #expect(try await page.evaluate("document.querySelector('tr.fan-out[data-fan-out=\"grid\"]').textContent").contains("6/6 succeeded"))
            #expect(try await page.evaluate(visible) == "map[a] map[b] map[c] map[d]", "opened on the failed instance; grid stays one row")
            #expect(try await page.evaluate("location.hash") == "#/runs/\(id)/map%5Bc%5D")

            // What the instances that succeeded passed on, as text (no markup of theirs reaches the page).
            let values =
                "[...document.querySelectorAll('#values-table tr[data-step]')].map((r) => [...r.cells].map((c) => c.textContent).join(' ')).join('|')"
            #expect(try await page.evaluate(values) == "map[a] seen <b>a</b>|map[b] seen <b>b</b>|map[d] seen <b>d</b>")
            #expect(try await page.evaluate("document.querySelectorAll('#values-table b').length") == "0")
            _ = try await page.evaluate("document.querySelector('button.toggle-fan-out[data-fan-out=\"grid\"]').click()")
            #expect(try await page.waitFor("\(visible).includes('grid[2,3]')"))
            #expect(
                try await page.evaluate("document.querySelector('button.toggle-fan-out[data-fan-out=\"grid\"]').getAttribute('aria-expanded')")
                    == "true")
            _ = try await page.evaluate("document.querySelector('button.toggle-fan-out[data-fan-out=\"map\"]').click()")
            #expect(try await page.waitFor("!\(visible).includes('map[')"))
            _ = try await page.evaluate("document.querySelector('tr[data-step=\"grid[1,2]\"] button.show-log').click()")
            #expect(try await page.waitFor("location.hash === '#/runs/\(id)/grid%5B1%2C2%5D'"))
            // The timeline gives each fan-out one row, named with its count.
            let rows = "[...document.querySelectorAll('#timeline svg > text')].map((t) => t.textContent).join('|')"
            #expect(try await page.evaluate(rows).hasPrefix("map ×4|grid ×6|"))

            // The pipeline's graph draws each fan-out as one node that counts its instances.
            _ = try await page.evaluate("location.hash = '#/pipelines/fan'")
            #expect(try await page.waitFor("document.querySelector('#graph g.node[data-step=\"map\"]') !== null"))
            #expect(
                try await page.evaluate("document.querySelector('#graph g.node[data-step=\"map\"] title').textContent")
                    == "map: ×4: 3/4 succeeded, 1 failed")
            #expect(try await page.evaluate("document.querySelector('#graph g.node[data-step=\"map\"] rect').getAttribute('class')") == "failed")
        }
    }
}

/// Pages of other web sites, in the same browser as the user's UI, cannot drive the local server.
@Suite(.serialized)
struct CrossOriginBrowserTests {
    @Test func anotherSitesPageStartsNoRunReadsNothingAndHearsNoEventWhileTheUIWorks() async throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline("p", "steps:\n  - {name: s, command: 'echo ran'}\n")
        _ = try await SluiceBinary.run(["run", "p"], in: workspace.root)  // events in the store, which a hijacked socket would stream
        let server = try SluiceBinary.start(["serve", "--port", "0"], in: workspace.root)
        defer { kill(server.process.processIdentifier, SIGKILL) }
        let address = try #require(String(decoding: server.stdout.availableData, as: UTF8.self).split(separator: " ").last)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let port = try #require(address.split(separator: ":").last.map(String.init))

        // The other site: evil.example (mapped to this machine by the browser) on a port of its own.
        try workspace.write(
            "evil/index.html",
            """
            <!doctype html><body><iframe name="sink"></iframe><script>
            const target = "http://127.0.0.1:\(port)";
            window.outcome = {messages: 0};
            fetch(target + "/api/pipelines/p/runs", {method: "POST", mode: "no-cors", body: "{}"})
              .then(() => outcome.noCors = "sent", () => outcome.noCors = "failed");
            fetch(target + "/api/config").then(r => r.text()).then(t => outcome.read = t, () => outcome.read = "blocked");
            const form = Object.assign(document.createElement("form"), {method: "POST", action: target + "/api/pipelines/p/runs", target: "sink", enctype: "text/plain"});
            form.appendChild(Object.assign(document.createElement("input"), {name: '{"a":', value: '1}'}));
            document.body.appendChild(form);
            document.querySelector("iframe").onload = () => outcome.form = "posted";
            form.submit();
            const socket = new WebSocket("ws://127.0.0.1:\(port)/api/events");
            socket.onmessage = () => outcome.messages += 1;
            socket.onopen = () => outcome.opened = true;
            socket.onclose = () => outcome.closed = true;
            </script>
            """)
        let site = Process()
        site.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        site.arguments = ["python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", workspace.path("evil")]
        let banner = Pipe()
        site.standardOutput = banner
        site.standardError = FileHandle.nullDevice
        try site.run()
        defer { kill(site.processIdentifier, SIGKILL) }
        // "Serving HTTP on 127.0.0.1 port N (http://127.0.0.1:N/) ..."
        let line = String(decoding: banner.fileHandleForReading.availableData, as: UTF8.self)
        let sitePort = try #require(line.split(separator: " ").drop { $0 != "port" }.dropFirst().first.map(String.init))

        let browser = try Chromium(
            url: "http://evil.example:\(sitePort)/", profile: workspace.path("chromium"),
            arguments: ["--host-resolver-rules=MAP evil.example 127.0.0.1"])
        defer { browser.stop() }
        try await browser.session { page in
            #expect(try await page.waitFor("window.outcome?.closed && outcome.noCors && outcome.read && outcome.form"))
            #expect(try await page.evaluate("outcome.noCors") == "sent", "the request reached the server, which refused it")
            #expect(try await page.evaluate("outcome.opened") != "true", "the WebSocket was refused before it opened")
            #expect(try await page.evaluate("outcome.messages") == "0", "no event reached the other site")
            #expect(try await page.evaluate("outcome.read") == "blocked")
            // A page whose own name points at this machine (DNS rebinding) reads nothing either.
            _ = try await page.send("Page.navigate", ["url": "http://evil.example:\(port)/"])
            #expect(try await page.waitFor("document.readyState === 'complete' && location.host.startsWith('evil.example')"))
            #expect(try await page.evaluate("document.body.innerText").contains("is not served here"))
            let rebound = try await page.send(
                "Runtime.evaluate", ["expression": "fetch('/api/config').then(r => r.status)", "awaitPromise": true, "returnByValue": true])
            #expect((rebound["result"] as? [String: Any])?["value"] as? Int == 403)
        }
        #expect(try await workspace.store().runs(pipeline: "p", limit: 10, offset: 0).count == 1, "only the run started from the command line")

        // The UI on its own origin, in the same browser, still starts a run.
        let own = try Chromium(url: address + "/#/pipelines/p", profile: workspace.path("chromium-own"))
        defer { own.stop() }
        try await own.session { page in
            #expect(try await page.waitFor("document.querySelector('form.params button.primary') !== null"))
            _ = try await page.evaluate("document.querySelector('form.params button.primary').click()")
            #expect(try await page.waitFor("location.hash.startsWith('#/runs/')"))
        }
        #expect(try await eventually { try await workspace.store().runs(pipeline: "p", limit: 10, offset: 0).count == 2 })
    }
}

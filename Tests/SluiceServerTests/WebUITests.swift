import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// The web UI used as people use it, in headless Chromium against `sluice serve`, with runs in the store: moving
/// between every page, staying on a page for a minute, a server that goes away and comes back, the forms, the
/// accessibility tree and a phone-sized screen. Serialized: it starts processes with Foundation's `Process`.
@Suite(.serialized)
struct WebUITests {
    /// A workspace with two pipelines and runs of both in its store.
    static func workspace() throws -> TestWorkspace {
        let workspace = try TestWorkspace()
        try workspace.pipeline(
            "sales",
            """
            name: Daily sales
            description: Loads the day's sales and reports on them
            params:
              mood: {type: choice, choices: [bad, good], default: good, description: how the last step behaves}
              rows: {type: int, default: "3", min: 1, max: 10, description: rows to load}
            modes:
              load: {steps: [extract, load], description: only loading}
            schedule: {cron: "30 6 * * *", timezone: Europe/Berlin}
            steps:
              - {name: extract, command: 'echo "extract $ROWS"'}
              - {name: load, command: 'echo loaded', depends_on: [extract]}
              - name: report
                depends_on: [load]
                command: 'mkdir -p "$SLUICE_OUTPUTS_DIR" && printf "# Sales\\n\\n| day | total |\\n|---|---|\\n| mon | 5 |\\n" > "$SLUICE_OUTPUTS_DIR/summary.md" && printf "day,total\\nmon,5\\n\\"tue, late\\",7\\n" > "$SLUICE_OUTPUTS_DIR/totals.csv" && head -c 150000 /dev/zero > "$SLUICE_OUTPUTS_DIR/blob.bin" && test "$MOOD" = good'
            """)
        // A description with a word longer than any screen is wide: it breaks rather than widen the page.
        try workspace.pipeline(
            "quick", "description: one step \(String(repeating: "x", count: 300))\nsteps:\n  - {name: only, command: 'echo quick'}\n")
        for arguments in [["run", "sales"], ["run", "quick"], ["run", "sales", "-p", "mood=bad"]] {
            _ = try SluiceBinary.run(arguments, in: workspace.root)
        }
        return workspace
    }

    /// `sluice serve` on a port that stays the same across restarts.
    final class Server: @unchecked Sendable {
        let workspace: TestWorkspace
        private(set) var process: Process?
        private(set) var port = 0
        var address: String { "http://127.0.0.1:\(port)" }

        init(_ workspace: TestWorkspace) throws {
            self.workspace = workspace
            try start()
        }

        func start() throws {
            let server = try SluiceBinary.start(["serve", "--port", String(port)], in: workspace.root)
            let banner = String(decoding: server.stdout.availableData, as: UTF8.self)
            guard let address = banner.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines),
                let number = address.split(separator: ":").last.flatMap({ Int($0) })
            else { throw TestFailure("no address in: \(banner)") }
            port = number
            process = server.process
        }

        /// Stops it as an operator would (SIGTERM: runs are cancelled and recorded).
        func stop() {
            guard let process else { return }
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            self.process = nil
        }

        deinit { if let process { kill(process.processIdentifier, SIGKILL) } }
    }

    /// The page shows `page` (one of pipelines, pipeline, runs, run) with a heading that contains `heading`.
    static func shows(_ page: String, _ heading: String) -> String {
        "document.getElementById('view').dataset.page === '\(page)' && document.querySelector('#view h1')?.textContent.includes('\(heading)')"
    }

    @Test func everyPageLeadsToEveryOtherWithRunsInTheStoreAndBackAndForwardWork() async throws {
        let workspace = try Self.workspace()
        let server = try Server(workspace)
        let runs = try await workspace.store().runs(pipeline: nil, limit: 10, offset: 0)
        let quick = try #require(runs.first { $0.pipeline == "quick" }?.id)
        let browser = try Chromium(url: server.address + "/#/", profile: workspace.path("chromium"))
        defer { browser.stop() }
        try await browser.session { page in
            func click(_ selector: String) async throws {
                #expect(try await page.waitFor("document.querySelector(\"\(selector)\") !== null"), "\(selector) is there")
                _ = try await page.evaluate("document.querySelector(\"\(selector)\").click()")
            }
            #expect(try await page.waitFor(Self.shows("pipelines", "Pipelines") + " && document.querySelector('tr[data-pipeline=sales]')"))
            try await click("tr[data-pipeline=sales] a[href='#/pipelines/sales']")
            #expect(try await page.waitFor(Self.shows("pipeline", "Daily sales")), "pipelines → a pipeline")
            try await click("header nav a[href='#/runs']")
            #expect(try await page.waitFor(Self.shows("runs", "Runs") + " && document.querySelectorAll('#runs tr[data-run]').length === 3"))
            try await click("tr[data-run='\(quick)'] a[href='#/runs/\(quick)']")
            #expect(try await page.waitFor(Self.shows("run", "Run \(quick)")), "runs → a run")
            try await click("#run-head a[href='#/pipelines/quick']")
            #expect(try await page.waitFor(Self.shows("pipeline", "quick")), "a run → its pipeline")
            try await click("#recent tr[data-run] a[href^='#/runs/']")
            #expect(try await page.waitFor(Self.shows("run", "Run \(quick)")), "a pipeline → one of its runs")
            try await click("header nav a[href='#/']")
            #expect(try await page.waitFor(Self.shows("pipelines", "Pipelines")), "a run → the pipelines")
            try await click("tr[data-pipeline=quick] a[href='#/runs/\(quick)']")
            #expect(try await page.waitFor(Self.shows("run", "Run \(quick)")), "the pipelines → a last run")

            // Back and forward, through the history the clicks made.
            _ = try await page.evaluate("history.back()")
            #expect(try await page.waitFor(Self.shows("pipelines", "Pipelines")), "back")
            _ = try await page.evaluate("history.back()")
            #expect(try await page.waitFor(Self.shows("run", "Run \(quick)")), "back again")
            _ = try await page.evaluate("history.forward()")
            #expect(try await page.waitFor(Self.shows("pipelines", "Pipelines")), "forward")

            // Runs happening meanwhile refresh the page shown, never bring back the one left.
            try await click("tr[data-pipeline=sales] a[href='#/pipelines/sales']")
            #expect(try await page.waitFor(Self.shows("pipeline", "Daily sales")))
            // The heading is drawn before the recent runs arrive: wait for the rows the store holds, then add one.
            let before = try await workspace.store().countRuns(RunFilter(pipeline: "sales"))
            #expect(try await page.waitFor("document.querySelectorAll('#recent tr[data-run]').length === \(before)"))
            _ = try await SluiceBinary.run(["run", "sales"], in: workspace.root)
            #expect(
                try await page.waitFor("document.querySelectorAll('#recent tr[data-run]').length === \(before + 1)"),
                "the pipeline page is live: the new run appears in its recent runs")
            #expect(try await page.evaluate(Self.shows("pipeline", "Daily sales")) == "true", "and it is still the pipeline page")
        }
    }

    @Test func eachPageHoldsOneLiveConnectionAfterAMinuteOfRuns() async throws {
        let workspace = try Self.workspace()
        let server = try Server(workspace)
        let run = try #require(try await workspace.store().runs(pipeline: "sales", limit: 1, offset: 0).first?.id)
        let pages = ["/#/", "/#/pipelines/sales", "/#/runs", "/#/runs/\(run)"]
        let browser = try Chromium(url: "about:blank", profile: workspace.path("chromium"))
        defer { browser.stop() }
        // Each tab counts the WebSockets its page opens and has open (a wrapper installed before the UI's script runs).
        let counter = """
            (() => { const Native = WebSocket; window.sockets = {opened: 0, open: 0};
              window.WebSocket = class extends Native { constructor(...args) { super(...args); sockets.opened += 1; sockets.open += 1;
                this.addEventListener("close", () => { sockets.open -= 1; }); } }; })()
            """
        let tabs = try pages.map { _ in try browser.openTab("about:blank") }
        for (tab, path) in zip(tabs, pages) {
            try await browser.session(tab) { page in
                _ = try await page.send("Page.enable")
                _ = try await page.send("Page.addScriptToEvaluateOnNewDocument", ["source": counter])
                _ = try await page.send("Page.navigate", ["url": server.address + path])
                #expect(
                    try await page.waitFor("window.sockets?.open === 1 && document.getElementById('connection').className === 'live'"),
                    "\(path) is live")
            }
        }
        // A minute of runs, each a burst of events every page hears.
        let end = Date().addingTimeInterval(60)
        var started = 0
        while Date() < end {
            _ = try await SluiceBinary.run(["run", started % 2 == 0 ? "quick" : "sales", "--force"], in: workspace.root)
            started += 1
        }
        let runs = started
        for (tab, path) in zip(tabs, pages) {
            try await browser.session(tab) { page in
                let open = try await page.evaluate("sockets.open"), opened = try await page.evaluate("sockets.opened")
                let title = try await page.evaluate("document.getElementById('connection').title")
                #expect(open == "1", "\(path): one open connection after a minute")
                #expect(opened == "1", "\(path): never another one, after \(runs) runs")
                #expect(title == "live updates: live")
            }
        }
        // Moving to another page closes the connection of the one left.
        try await browser.session(tabs[0]) { page in
            _ = try await page.evaluate("location.hash = '#/runs'")
            #expect(try await page.waitFor("sockets.opened === 2 && sockets.open === 1"))
        }
    }

    @Test func aRunThatFailsAtOnceOpensOnItsFailedStepsLogLive() async throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline("fast", "steps:\n  - {name: fails, command: 'echo \"the cause is here\"; exit 3'}\n")
        let server = try Server(workspace)
        let browser = try Chromium(url: server.address + "/#/pipelines/fast", profile: workspace.path("chromium"))
        defer { browser.stop() }
        try await browser.session { page in
            #expect(try await page.waitFor("document.querySelector('#params button.primary') !== null"))
            _ = try await page.evaluate("(window.sameDocument = 'yes', document.querySelector('#params button.primary').click())")
            #expect(try await page.waitFor("document.getElementById('log')?.textContent.includes('the cause is here')"), "the log, live")
            #expect(try await page.waitFor("location.hash.endsWith('/fails')"))
            #expect(try await page.evaluate("window.sameDocument") == "yes", "without a reload")
            #expect(
                try await page.evaluate("document.activeElement.tagName + ' ' + document.activeElement.textContent").hasPrefix("H1 Run "),
                "focus moved to the run that started")
            #expect(
                try await page.waitFor("document.querySelector('#review pre')?.textContent.includes('fails')"),
                "its manual-review notification is shown")
        }
    }

    @Test func thePageSaysTheServerIsAwayAndRecoversWhenItIsBack() async throws {
        let workspace = try Self.workspace()
        let server = try Server(workspace)
        let browser = try Chromium(url: server.address + "/#/", profile: workspace.path("chromium"))
        defer { browser.stop() }
        try await browser.session { page in
            #expect(try await page.waitFor(Self.shows("pipelines", "Pipelines") + " && document.getElementById('connection').className === 'live'"))
            server.stop()
            #expect(
                try await page.waitFor("document.getElementById('connection').title.startsWith('live updates: offline')"),
                "the indicator says so in words, not only in colour")
            _ = try await page.evaluate("location.hash = '#/runs'")
            #expect(try await page.waitFor("document.querySelector('.offline')?.textContent.includes('Cannot reach the Sluice server')"))
            #expect(try await page.evaluate("document.getElementById('pipelines') === null") == "true", "the page left is not left on screen")
            try server.start()
            #expect(
                try await page.waitFor(Self.shows("runs", "Runs") + " && document.querySelectorAll('#runs tr[data-run]').length === 3", timeout: 60),
                "back by itself once the server is")
            #expect(
                try await page.waitFor(
                    "document.getElementById('connection').className === 'live' && !document.querySelector('.offline')", timeout: 60))
        }
    }

    @Test func aLongStepsTimeMovesCancelAsksFirstAndACancelledRunSaysWhy() async throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline(
            "slow",
            """
            steps:
              - {name: wait, command: 'echo waiting; exec sleep 300'}
              - {name: after, command: 'true', depends_on: [wait]}
            """)
        let server = try Server(workspace)
        let browser = try Chromium(url: server.address + "/#/pipelines/slow", profile: workspace.path("chromium"))
        defer { browser.stop() }
        try await browser.session { page in
            #expect(try await page.waitFor("document.querySelector('#params button.primary') !== null"))
            _ = try await page.evaluate("document.querySelector('#params button.primary').click()")
            #expect(
                try await page.waitFor(
                    "document.querySelector('tr[data-step=wait]')?.dataset.state === 'running' && document.getElementById('elapsed')"))
            let first = try await page.evaluate("document.getElementById('elapsed').textContent")
            #expect(try await page.waitFor("document.getElementById('elapsed').textContent !== '\(first)'"), "the elapsed time moves without events")
            let span = "document.querySelector('#timeline svg text:last-of-type')?.textContent"
            let shown = try await page.evaluate(span)
            #expect(try await page.waitFor("\(span) !== '\(shown)'"), "so does the timeline's span")

            _ = try await page.evaluate("document.getElementById('cancel').click()")
            #expect(try await page.waitFor("document.getElementById('cancel-area').textContent.includes('Cancel run')"), "it asks first")
            _ = try await page.evaluate("document.getElementById('cancel-no').click()")
            #expect(try await page.evaluate("document.querySelector('tr[data-step=wait]').dataset.state") == "running", "kept running")
            _ = try await page.evaluate("document.getElementById('cancel').click()")
            #expect(try await page.waitFor("document.getElementById('cancel-yes') !== null"))
            _ = try await page.evaluate("document.getElementById('cancel-yes').click()")
            #expect(
                try await page.waitFor(
                    "document.getElementById('cancel-reason')?.textContent === 'Cancelled: asked for through the API or the web UI.'"))
            // Resumed, it is no longer cancelled, and says so no more.
            _ = try await page.evaluate("document.getElementById('resume').click()")
            #expect(
                try await page.waitFor(
                    "document.querySelector('tr[data-step=wait]')?.dataset.state === 'running' && !document.getElementById('cancel-reason')"))
            _ = try await page.evaluate("document.getElementById('cancel').click()")
            _ = try await page.evaluate("document.getElementById('cancel-yes').click()")
            #expect(try await page.waitFor("document.getElementById('cancel-reason') !== null"))
        }

        // A run the server's shutdown cancels says so (started over the API: the form was tried above).
        let started = try Shell.run(
            "curl -s -X POST -H 'Content-Type: application/json' -d '{}' \(server.address)/api/pipelines/slow/runs"
        ).output
        let id = try #require((try JSONSerialization.jsonObject(with: Data(started.utf8)) as? [String: Any])?["id"] as? String, "\(started)")
        try await browser.session { page in
            _ = try await page.send("Page.navigate", ["url": server.address + "/#/runs/\(id)"])
            #expect(try await page.waitFor(Self.shows("run", id)))
            #expect(try await page.waitFor("document.querySelector('tr[data-step=wait]')?.dataset.state === 'running'"))
            server.stop()
            try server.start()
            #expect(
                try await page.waitFor("document.getElementById('cancel-reason')?.textContent === 'Cancelled: the server shut down.'", timeout: 60))
        }
    }

    @Test func aStepRunsWithItsUpstreamAModeRunsAndARetryChangesAParameter() async throws {
        let workspace = try Self.workspace()
        let server = try Server(workspace)
        let browser = try Chromium(url: server.address + "/#/pipelines/sales", profile: workspace.path("chromium"))
        defer { browser.stop() }
        try await browser.session { page in
            #expect(try await page.waitFor(Self.shows("pipeline", "Daily sales")))
            _ = try await page.evaluate("document.querySelector('tr[data-step=load] button.run-upstream').click()")
            #expect(
                try await page.waitFor(
                    "document.getElementById('selection')?.textContent === 'Only a selection of the pipeline ran: step load with its upstream steps.'"
                ))
            #expect(
                try await page.waitFor(
                    "[...document.querySelectorAll('#steps tr[data-step]')].map(r => r.dataset.step + '=' + r.dataset.state).join(' ') === 'extract=succeeded load=succeeded'"
                ),
                "load and what it needs ran, not report")

            _ = try await page.evaluate("location.hash = '#/pipelines/sales'")
            #expect(try await page.waitFor(Self.shows("pipeline", "Daily sales")))
            #expect(
                try await page.evaluate("[...document.getElementById('run-mode').options].map(o => o.textContent).join('|')")
                    == "the whole pipeline|mode load")
            #expect(try await page.evaluate("document.getElementById('run-mode-hint').textContent") == "load: only loading")
            _ = try await page.evaluate(
                "(document.getElementById('run-mode').value = 'load', document.querySelector('#params button.primary').click())")
            #expect(
                try await page.waitFor("document.getElementById('selection')?.textContent === 'Only a selection of the pipeline ran: mode load.'"))

            // From a step, skipping another: the form's step choices.
            _ = try await page.evaluate("location.hash = '#/pipelines/sales'")
            #expect(try await page.waitFor(Self.shows("pipeline", "Daily sales")))
            _ = try await page.evaluate(
                """
                (document.getElementById('run-from').value = 'load',
                 [...document.getElementById('run-skip').options].find(o => o.value === 'report').selected = true,
                 document.querySelector('#params button.primary').click())
                """)
            #expect(
                try await page.waitFor(
                    "document.getElementById('selection')?.textContent === 'Only a selection of the pipeline ran: from load; skipping report.'"))
            #expect(try await page.waitFor("[...document.querySelectorAll('#steps tr[data-step]')].map(r => r.dataset.step).join(' ') === 'load'"))

            // The whole pipeline with a parameter that makes its last step fail, then a retry that changes it.
            _ = try await page.evaluate("location.hash = '#/pipelines/sales'")
            #expect(try await page.waitFor(Self.shows("pipeline", "Daily sales")))
            _ = try await page.evaluate(
                "(document.getElementById('param-mood').value = 'bad', document.querySelector('#params button.primary').click())")
            #expect(try await page.waitFor("document.querySelector('tr[data-step=report]')?.dataset.state === 'failed'"))
            let failed = try await page.evaluate("location.hash.split('/')[2]")
            #expect(try await page.waitFor("!document.getElementById('retry').disabled"))
            _ = try await page.evaluate("document.getElementById('retry').click()")
            #expect(
                try await page.waitFor("document.activeElement?.id === 'param-mood' && document.activeElement.value === 'bad'"),
                "the retry form opens on the run's own values")
            _ = try await page.evaluate(
                "(document.querySelector('#retry-form #param-mood').value = 'good', document.querySelector('#retry-form button.primary').click())")
            #expect(
                try await page.waitFor(
                    "location.hash.split('/')[2] !== '\(failed)' && document.querySelector('tr[data-step=report]')?.dataset.state === 'succeeded'"))
            #expect(
                try await page.evaluate("document.querySelector('#run-head a[href=\"#/runs/\(failed)\"]')?.textContent") == failed,
                "retry:ID is a link to the run it retried")
            #expect(try await page.evaluate("document.getElementById('run-head').textContent").contains("mood=good"))
        }
    }

    @Test func runsAreFilteredAndPagedAndAPipelineLinksToAllOfItsRuns() async throws {
        let workspace = try Self.workspace()
        let server = try Server(workspace)
        // 57 runs of quick, started over the API (fast: the server runs them).
        for _ in 0..<57 {
            _ = try Shell.run("curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -d '{}' \(server.address)/api/pipelines/quick/runs")
        }
        #expect(try await eventually(timeout: 60) { try await workspace.store().countRuns(RunFilter(pipeline: "quick", status: .success)) == 58 })
        let browser = try Chromium(url: server.address + "/#/runs", profile: workspace.path("chromium"))
        defer { browser.stop() }
        let rows = "document.querySelectorAll('#runs tr[data-run]').length"
        try await browser.session { page in
            #expect(try await page.waitFor("document.getElementById('range')?.textContent === '1–50 of 60'"))
            _ = try await page.evaluate("document.getElementById('older').click()")
            #expect(try await page.waitFor("document.getElementById('range').textContent === '51–60 of 60' && \(rows) === 10"))
            #expect(try await page.evaluate("location.hash") == "#/runs?page=2", "the address names the page")
            // The page drawn for the new address (not the one before it, which showed the same range).
            _ = try await page.evaluate("(window.before = document.getElementById('range'), location.hash = '#/runs?page=9')")
            #expect(
                try await page.waitFor(
                    "document.getElementById('range') !== window.before && document.getElementById('range').textContent === '51–60 of 60'"),
                "past the end: the last page")
            #expect(try await page.evaluate("document.getElementById('older').disabled") == "true")
            let choose = { (name: String, value: String) in
                "(document.getElementById('filter-\(name)').value = '\(value)', document.getElementById('filter-\(name)').dispatchEvent(new Event('change', {bubbles: true})))"
            }
            _ = try await page.evaluate(choose("status", "failed"))
            #expect(try await page.waitFor("document.getElementById('range').textContent === '1–1 of 1' && \(rows) === 1"))
            #expect(try await page.evaluate("location.hash") == "#/runs?status=failed")
            _ = try await page.evaluate(choose("status", ""))
            _ = try await page.evaluate(choose("trigger", "api"))
            #expect(try await page.waitFor("document.getElementById('range').textContent === '1–50 of 57'"))

            _ = try await page.evaluate("location.hash = '#/pipelines/quick'")
            #expect(
                try await page.waitFor("document.querySelector('#recent a[href=\"#/runs?pipeline=quick\"]')?.textContent === 'All 58 runs of quick'"))
            _ = try await page.evaluate("document.querySelector('#recent a[href=\"#/runs?pipeline=quick\"]').click()")
            #expect(try await page.waitFor(Self.shows("runs", "Runs") + " && document.getElementById('range').textContent === '1–50 of 58'"))
            #expect(try await page.evaluate("document.getElementById('filter-pipeline').value") == "quick")
        }
    }

    @Test func formsExplainAndNameEveryFieldAndButtonAndPointAtWhatIsWrong() async throws {
        let workspace = try Self.workspace()
        let server = try Server(workspace)
        let run = try #require(try await workspace.store().runs(pipeline: "sales", limit: 1, offset: 0).first?.id)
        let browser = try Chromium(url: server.address + "/#/pipelines/sales", profile: workspace.path("chromium"))
        defer { browser.stop() }
        try await browser.session { page in
            #expect(try await page.waitFor(Self.shows("pipeline", "Daily sales")))
            #expect(try await page.evaluate("document.getElementById('param-rows-hint').textContent") == "rows to load · a whole number from 1 to 10")
            #expect(
                try await page.evaluate("document.getElementById('param-mood-hint').textContent") == "how the last step behaves · one of: bad, good")
            try await Self.expectEveryControlNamed(page, "the pipeline page")
            let names = try await page.controls().map(\.name)
            for step in ["extract", "load", "report"] {
                #expect(
                    names.contains("\(step) tested") && names.contains("Run step \(step) alone")
                        && names.contains("Run step \(step) with its upstream steps"))
            }

            // A value the pipeline refuses: said beside its field, which is marked, described by it, and focused.
            _ = try await page.evaluate(
                "(document.getElementById('param-rows').value = '11', document.querySelector('#params button.primary').click())")
            #expect(try await page.waitFor("!document.getElementById('param-rows-error').hidden"))
            #expect(try await page.evaluate("document.getElementById('param-rows-error').textContent").contains("maximum"))
            #expect(try await page.evaluate("document.getElementById('param-rows').getAttribute('aria-invalid')") == "true")
            #expect(try await page.evaluate("document.activeElement.id") == "param-rows")
            #expect(
                try await page.evaluate("document.getElementById('param-rows').getAttribute('aria-describedby')")
                    == "param-rows-hint param-rows-error")
            let described = try await page.controls().first { $0.name == "rows" }
            #expect(described != nil, "the field is named by its label")

            // Text a number field cannot read ("5-", which the browser reports as empty) is said, not run with the default.
            _ = try await page.evaluate("(document.getElementById('param-rows').value = '', document.getElementById('param-rows').focus())")
            _ = try await page.send("Input.insertText", ["text": "5-"])
            let runsBefore = try await workspace.store().countRuns(RunFilter())
            _ = try await page.evaluate("document.querySelector('#params button.primary').click()")
            #expect(try await page.waitFor("document.getElementById('param-rows-error').textContent === 'Give a number.'"))
            #expect(try await workspace.store().countRuns(RunFilter()) == runsBefore, "nothing was started")

            // The backfill form speaks its own words, in error style.
            _ = try await page.evaluate(
                """
                (document.getElementById('bf-from').value = '2026-10-05', document.getElementById('bf-to').value = '2026-10-01',
                 document.querySelector('#backfill button').click())
                """)
            #expect(
                try await page.waitFor(
                    "document.getElementById('bf-from-error').textContent === 'The first day (2026-10-05) is after the last (2026-10-01).'"))
            #expect(try await page.evaluate("getComputedStyle(document.getElementById('bf-from-error')).color") == "rgb(185, 28, 28)")

            // States are told apart by colour and by name: partial success, cancelled and paused differ; skipped is one grey.
            let colours = try await page.evaluate(
                """
                ['partial_success', 'cancelled', 'paused'].map(s => { const d = document.createElement('div'); d.innerHTML = badge(s);
                  document.body.append(d); const c = getComputedStyle(d.firstChild).backgroundColor; d.remove(); return c; }).join(' | ')
                """)
            #expect(Set(colours.components(separatedBy: " | ")).count == 3, "\(colours)")
            let skipped = try await page.evaluate(
                """
                (() => { const d = document.createElement('div'); d.innerHTML = badge('skipped') + graph({steps: [{name: 's', status: {lastState: 'skipped'}}], edges: []});
                  document.body.append(d); const a = getComputedStyle(d.querySelector('.badge')).backgroundColor, b = getComputedStyle(d.querySelector('rect')).fill;
                  d.remove(); return a === b; })()
                """)
            #expect(skipped == "true", "skipped has one colour, as a badge and in the graph")

            _ = try await page.evaluate("location.hash = '#/runs'")
            #expect(try await page.waitFor(Self.shows("runs", "Runs") + " && document.getElementById('range').textContent !== ''"))
            try await Self.expectEveryControlNamed(page, "the runs page")
            _ = try await page.evaluate("location.hash = '#/runs/\(run)'")
            #expect(try await page.waitFor(Self.shows("run", run) + " && document.getElementById('retry') && document.querySelector('#outputs li')"))
            _ = try await page.evaluate("document.getElementById('retry').click()")
            #expect(try await page.waitFor("document.getElementById('retry-form') !== null"))
            try await Self.expectEveryControlNamed(page, "the run page with its retry form")
        }
    }

    static func expectEveryControlNamed(_ page: Chromium.Page, _ place: String) async throws {
        let all = try await page.controls()
        #expect(!all.isEmpty)
        // Chromium gives each date field a "Show date picker" button of its own making, named alike: not the UI's.
        let controls = all.filter { !$0.name.hasPrefix("Show date picker") }
        let unnamed = controls.filter { $0.name.trimmingCharacters(in: .whitespaces).isEmpty }
        #expect(unnamed.isEmpty, "\(place): controls without a name: \(unnamed)")
        let buttons = controls.filter { $0.role == "button" || $0.role == "checkbox" }.map(\.name)
        #expect(Set(buttons).count == buttons.count, "\(place): buttons and checkboxes each have a name of their own: \(buttons.sorted())")
    }

    @Test func outputsShowTheirSizeAndMarkdownAndCSVAreShownAsSuch() async throws {
        let workspace = try Self.workspace()
        let server = try Server(workspace)
        let run = try #require(try await workspace.store().runs(pipeline: "sales", status: .success, limit: 1, offset: 0).first?.id)
        let browser = try Chromium(url: server.address + "/#/runs/\(run)", profile: workspace.path("chromium"))
        defer { browser.stop() }
        try await browser.session { page in
            #expect(try await page.waitFor("document.querySelectorAll('#outputs li').length === 3"))
            let listed = try await page.evaluate(
                "[...document.querySelectorAll('#outputs li')].map(li => li.textContent.split(' · ')[0]).join(' | ')")
            #expect(listed == "blob.bin 146 KiB | summary.md 47 bytes | totals.csv 30 bytes", "sizes for people: \(listed)")
            _ = try await page.evaluate("document.querySelector('#outputs button.preview[data-path=\"summary.md\"]').click()")
            #expect(try await page.waitFor("document.querySelector('#preview .markdown h3')?.textContent === 'Sales'"), "Markdown rendered")
            #expect(try await page.evaluate("document.querySelector('#preview .markdown td')?.textContent") == "mon")
            _ = try await page.evaluate("document.querySelector('#outputs button.preview[data-path=\"totals.csv\"]').click()")
            #expect(try await page.waitFor("document.querySelectorAll('#preview table.csv tr').length === 3"))
            #expect(
                try await page.evaluate("document.querySelector('#preview table.csv tr:last-child td').textContent") == "tue, late",
                "a quoted comma stays in its cell")
        }
    }

    @Test func atFourHundredTwentyPixelsNoPageIsWiderThanTheScreen() async throws {
        let workspace = try Self.workspace()
        let server = try Server(workspace)
        let run = try #require(try await workspace.store().runs(pipeline: "sales", limit: 1, offset: 0).first?.id)
        let browser = try Chromium(url: "about:blank", profile: workspace.path("chromium"))
        defer { browser.stop() }
        try await browser.session { page in
            try await page.setWidth(420)
            for (path, kind, heading) in [
                ("#/", "pipelines", "Pipelines"), ("#/pipelines/sales", "pipeline", "Daily sales"),
                ("#/runs", "runs", "Runs"), ("#/runs/\(run)", "run", run),
            ] {
                _ = try await page.send("Page.navigate", ["url": server.address + "/" + path])
                #expect(try await page.waitFor(Self.shows(kind, heading) + " && document.querySelectorAll('#view table').length > 0"))
                let width = try await page.evaluate("document.documentElement.scrollWidth")
                #expect(Int(width) ?? 9999 <= 420, "\(path) is \(width) px wide at 420")
                if kind == "run" {
                    #expect(try await page.waitFor("document.querySelector('#timeline svg')"))
                    let fits = try await page.evaluate(
                        """
                        document.querySelector('#timeline svg').getBoundingClientRect().width + ' ' + document.getElementById('timeline').clientWidth
                        """)
                    let sizes = fits.split(separator: " ").compactMap { Double($0) }
                    #expect(sizes.count == 2 && sizes[0] <= sizes[1] + 2, "the timeline fits the screen, not scrolled: \(fits)")
                }
                if kind == "pipeline" {
                    #expect(
                        try await page.evaluate(
                            "Boolean(document.getElementById('params').compareDocumentPosition(document.getElementById('triggers')) & Node.DOCUMENT_POSITION_FOLLOWING)"
                        ) == "true",
                        "the Run form comes before Triggers and Backfill")
                }
            }
        }
    }

    @Test func aLiveLogShowsEveryLineOnceAndStepNamesWithSpacesWork() async throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline(
            "ticker",
            """
            steps:
              - {name: load data, command: 'for i in 1 2 3 4 5 6; do echo "line $i"; sleep 0.3; done'}
              - {name: after it, command: 'echo done', depends_on: [load data]}
            """)
        let server = try Server(workspace)
        let browser = try Chromium(url: server.address + "/#/pipelines/ticker", profile: workspace.path("chromium"))
        defer { browser.stop() }
        let lines = (1...6).map { "line \($0)\n" }.joined()
        try await browser.session { page in
            #expect(try await page.waitFor("document.querySelector('tr[data-step=\"load data\"] button.run-step') !== null"))
            _ = try await page.evaluate("document.querySelector('tr[data-step=\"load data\"] button.run-step').click()")
            #expect(try await page.waitFor("document.querySelector('tr[data-step=\"load data\"]')?.dataset.state === 'succeeded'"))
            #expect(
                try await page.waitFor("document.getElementById('log').textContent === \(Self.literal(lines))"),
                "every line once, in order, while it ran and after")
            let run = try await page.evaluate("location.hash.split('/')[2]")
            #expect(try await page.evaluate("location.hash") == "#/runs/\(run)/load%20data")

            // Opened at that address (a reload, a link): that step's log, and nothing else.
            _ = try await page.send("Page.reload")
            #expect(try await page.waitFor("document.getElementById('log-step')?.textContent === 'load data'"))
            #expect(try await page.waitFor("document.getElementById('log').textContent === \(Self.literal(lines))"))
            _ = try await page.evaluate("location.hash = '#/pipelines/ticker'")
            #expect(try await page.waitFor("document.querySelector('tr[data-step=\"after it\"] input.tested') !== null"))
            _ = try await page.evaluate("document.querySelector('tr[data-step=\"after it\"] input.tested').click()")
            #expect(
                try await eventually { try await workspace.store().stepStatuses(pipeline: "ticker").first { $0.step == "after it" }?.tested == true })
        }
    }

    @Test func aParentRunLeadsToItsChildRunAndBack() async throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline("inner", "params: {n: {type: int, default: \"1\"}}\nsteps:\n  - {name: work, command: 'echo \"n=$N\"'}\n")
        try workspace.pipeline(
            "outer", "steps:\n  - {name: batches, foreach: [\"2\", \"3\"], pipeline: inner, params: {n: \"{{ item }}\"}}\n")
        let ran = try await SluiceBinary.run(["run", "outer"], in: workspace.root)
        #expect(ran.status == 0, "\(ran.stdout)\(ran.stderr)")
        let parent = try #require(try await workspace.store().runs(pipeline: "outer", limit: 1, offset: 0).first?.id)
        let child = try #require(try await workspace.store().childRuns(of: parent).last?.id)
        let server = try Server(workspace)
        let browser = try Chromium(url: server.address + "/#/runs/\(parent)", profile: workspace.path("chromium"))
        defer { browser.stop() }
        try await browser.session { page in
            #expect(try await page.waitFor(Self.shows("run", "Run \(parent)")))
            // The fan-out is folded: opened, each instance names the child run it started.
            #expect(try await page.waitFor("document.querySelector('button.toggle-fan-out') !== null"), "the steps are drawn")
            _ = try await page.evaluate("document.querySelector('button.toggle-fan-out').click()")
            let link = "tr[data-step='batches[3]'] a[data-child='\(child)']"
            #expect(try await page.waitFor("document.querySelector(\"\(link)\")?.offsetParent !== null"), "the child run's link shows")
            // Clicked as drawn now: the rows in view are drawn again as the page reads the run.
            let reached = try await page.waitFor(
                "(document.querySelector(\"\(link)\")?.click(), location.hash === '#/runs/\(child)' && \(Self.shows("run", "Run \(child)")))")
            let seen = try await page.evaluate("location.hash + ' ' + document.getElementById('view').innerText.slice(0, 200)")
            #expect(reached, "a parent run → its child run: \(seen)")
            #expect(try await page.evaluate("document.querySelector('#run-head p.muted').textContent").contains("step batches[3] of \(parent)"))
            #expect(try await page.evaluate("document.getElementById('log').textContent") == "Choose a step above to see its log.")
            _ = try await page.evaluate("document.querySelector(\"#run-head a[href^='#/runs/\(parent)']\").click()")
            #expect(try await page.waitFor(Self.shows("run", "Run \(parent)")), "the child run → its parent, at the step that started it")
            #expect(
                try await page.waitFor("document.getElementById('log').textContent.includes('run \(child) of inner')"),
                "the step's log, showing the child run")
            _ = try await page.evaluate("history.back()")
            #expect(try await page.waitFor(Self.shows("run", "Run \(child)")), "back")
            _ = try await page.evaluate("location.hash = '#/runs?trigger=parent'")
            #expect(
                try await page.waitFor(Self.shows("runs", "Runs") + " && document.querySelectorAll('#runs tr[data-run]').length === 2"),
                "runs started by a parent")
            // The parent pipeline's page says which pipeline the step runs, and leads to it.
            _ = try await page.evaluate("location.hash = '#/pipelines/outer'")
            #expect(try await page.waitFor("document.querySelector(\"tr[data-step=batches] a[href='#/pipelines/inner']\")?.textContent === 'inner'"))
            _ = try await page.evaluate("document.querySelector(\"tr[data-step=batches] a[href='#/pipelines/inner']\").click()")
            #expect(try await page.waitFor(Self.shows("pipeline", "inner")), "a parent pipeline → the pipeline it runs")
        }
    }

    /// `text` as a JavaScript string literal.
    static func literal(_ text: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: [text]), as: UTF8.self).dropFirst().dropLast().description
    }
}

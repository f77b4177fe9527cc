import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// The run page and the pipeline page of big runs, in headless Chromium against `sluice serve`: what a user does
/// with thousands of steps. Serialized: it starts processes with Foundation's `Process` (see ``CommandLineTests``).
@Suite(.serialized)
struct BigRunBrowserTests {
    /// Starts `sluice serve` in `workspace`; returns it and its address.
    private func serve(_ workspace: TestWorkspace) throws -> (SluiceBinary.Running, String) {
        let server = try SluiceBinary.start(["serve", "--port", "0"], in: workspace.root)
        let address = try #require(String(decoding: server.stdout.availableData, as: UTF8.self).split(separator: " ").last)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return (server, address)
    }

    @Test func aRunOfThreeThousandStepsDrawsTheRowsInViewAndFindsItsFailuresBySearchAndByState() async throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline(
            "big",
            "steps:\n"
                + (1...3000).map { "  - {name: part_\($0), command: '\($0 % 500 == 0 ? "echo broken \($0); exit 3" : "true")'}" }
                .joined(separator: "\n") + "\n")
        let run = try await SluiceBinary.run(["run", "big", "--continue-on-error"], in: workspace.root)
        let id = try #require(run.stdout.split(separator: " ").dropFirst().first.map(String.init), "\(run.stdout)")
        let (server, address) = try serve(workspace)
        defer { kill(server.process.processIdentifier, SIGKILL) }
        let browser = try Chromium(url: address + "/#/runs/\(id)", profile: workspace.path("chromium"))
        defer { browser.stop() }
        try await browser.session { page in
            let rows = "document.querySelectorAll('#steps tr[data-step]')"
            #expect(try await page.waitFor("document.getElementById('step-count')?.textContent === '3000 steps'"), "every page of steps read")
            let drawn = try #require(Int(try await page.evaluate("\(rows).length")))
            #expect(drawn > 10 && drawn < 100, "only the rows in view are drawn: \(drawn)")
            #expect(try await page.evaluate("document.getElementById('counts').textContent").contains("3000 of 3000 steps finished"))
            #expect(try await page.evaluate("document.getElementById('counts').textContent").contains("6 failed · 2994 succeeded"))
            #expect(try await page.evaluate("document.getElementById('progress').getAttribute('aria-valuenow')") == "100")
            let failedList = "[...document.querySelectorAll('.attention.failed button')].map((b) => b.textContent).join(' ')"
            #expect(try await page.evaluate(failedList) == "part_500 part_1000 part_1500 part_2000 part_2500 part_3000")
            // It opened on the first failure's log.
            #expect(try await page.waitFor("document.getElementById('log').textContent.includes('broken 500')"))

            // Scrolled to the end, the last rows are drawn (and still not all of them).
            _ = try await page.evaluate(
                "(() => { const a = document.getElementById('steps-area'); a.scrollTop = a.scrollHeight; a.dispatchEvent(new Event('scroll')); })()")
            #expect(try await page.waitFor("document.querySelector('#steps tr[data-step=\"part_3000\"]') !== null"))
            #expect(try await page.evaluate("document.querySelector('#steps tr[data-step=\"part_1\"]') === null") == "true")

            // Only the failed ones, then a name.
            _ = try await page.evaluate(
                "(() => { const s = document.getElementById('step-state'); s.value = 'failed'; s.dispatchEvent(new Event('change')); })()")
            let names = "[...\(rows)].map((r) => r.dataset.step).join(' ')"
            #expect(try await page.waitFor("\(names) === 'part_500 part_1000 part_1500 part_2000 part_2500 part_3000'"))
            #expect(try await page.evaluate("document.getElementById('step-count').textContent") == "6 of 3000 steps")
            _ = try await page.evaluate(
                """
                (() => { const s = document.getElementById('step-state'); s.value = ''; s.dispatchEvent(new Event('change'));
                  const q = document.getElementById('step-search'); q.value = 'PART_299'; q.dispatchEvent(new Event('input')); })()
                """)
            #expect(try await page.waitFor("\(names).startsWith('part_299 part_2990 part_2991')"))
            #expect(try await page.evaluate("document.getElementById('step-count').textContent") == "11 of 3000 steps")
            _ = try await page.evaluate("document.querySelector('#steps tr[data-step=\"part_2995\"] button.show-log').click()")
            #expect(try await page.waitFor("location.hash === '#/runs/\(id)/part_2995'"))

            // The timeline of 3,000 steps is one row that counts them at each moment, not 3,000 bars.
            #expect(try await page.evaluate("document.querySelector('#timeline svg > text').textContent") == "all 3000 steps")
            let rectangles = try #require(Int(try await page.evaluate("document.querySelectorAll('#timeline rect').length")))
            #expect(rectangles < 400, "\(rectangles) rectangles")
            // The resources of the run: one row a step, the 40 largest.
            #expect(try await page.waitFor("document.querySelectorAll('#resources svg g[data-step]').length === 40"))
        }
    }

    @Test func aLiveRunIsPatchedFromItsEventsWithoutReadingTheWholeRunAgain() async throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline(
            "live",
            "steps:\n" + (1...300).map { "  - {name: s\($0), command: 'sleep 0.01'}" }.joined(separator: "\n")
                + "\n  - {name: last, command: 'while [ ! -f go ]; do sleep 0.02; done', depends_on: [s300]}\n")
        let (server, address) = try serve(workspace)
        defer { kill(server.process.processIdentifier, SIGKILL) }
        let started = try Shell.run("curl -s -X POST -H 'Content-Type: application/json' -d '{}' \(address)/api/pipelines/live/runs").output
        let id = try #require((try JSONSerialization.jsonObject(with: Data(started.utf8)) as? [String: Any])?["id"] as? String, "\(started)")
        let browser = try Chromium(url: address + "/#/runs/\(id)", profile: workspace.path("chromium"))
        defer { browser.stop() }
        try await browser.session { page in
            // The last row is out of view among 301: the user looks for it by name.
            #expect(try await page.waitFor("document.getElementById('step-search') !== null"))
            _ = try await page.evaluate(
                "(() => { const q = document.getElementById('step-search'); q.value = 'last'; q.dispatchEvent(new Event('input')); })()")
            #expect(try await page.waitFor("document.querySelector('tr[data-step=\"last\"]')?.dataset.state === 'running'"))
            #expect(try await page.evaluate("document.getElementById('counts').textContent").contains("300 succeeded"))
            try workspace.write("go", "")
            #expect(try await page.waitFor("document.querySelector('tr[data-step=\"last\"]')?.dataset.state === 'succeeded'"))
            #expect(try await page.waitFor("document.querySelector('#heading .badge')?.textContent === 'success'"))
            let requests = try await page.evaluate(
                "JSON.stringify(performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname + new URL(e.name).search))")
            let paths = try #require(try JSONSerialization.jsonObject(with: Data(requests.utf8)) as? [String])
            let run = "/api/runs/\(id)"
            #expect(!paths.contains(run), "the whole run (every step and attempt) is never read: \(paths)")
            let stepReads = paths.filter { $0.hasPrefix(run + "/steps?") }
            #expect(stepReads.count <= 3, "the steps are read once, not per event: \(stepReads)")
            let batches = try #require(Int(try await page.evaluate("performance.getEntriesByName('sluice:event-batch').length")))
            #expect(batches >= 3, "events came in \(batches) batches and each was applied")
            #expect(try await page.evaluate("document.querySelector('tr[data-step=\"last\"]').dataset.history").hasSuffix("running succeeded"))
        }
    }

    @Test func aPipelinesHistoryGridOpensAStepsLogInAnEarlierRun() async throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline(
            "daily",
            """
            steps:
              - {name: load, command: 'echo "loaded $(cat n 2>/dev/null)"'}
              - {name: score, foreach: [a, b], command: 'test "$SLUICE_ITEM" != b || test -f fixed || { echo "b is broken"; exit 2; }', depends_on: [load]}
            """)
        _ = try await SluiceBinary.run(["run", "daily"], in: workspace.root)
        try workspace.write("fixed", "")
        _ = try await SluiceBinary.run(["run", "daily", "--force"], in: workspace.root)
        let (server, address) = try serve(workspace)
        defer { kill(server.process.processIdentifier, SIGKILL) }
        let browser = try Chromium(url: address + "/#/pipelines/daily", profile: workspace.path("chromium"))
        defer { browser.stop() }
        try await browser.session { page in
            let cells = "[...document.querySelectorAll('#history tr[data-step=\"score\"] a.cell')]"
            #expect(try await page.waitFor("\(cells).map((c) => c.className).join(' ') === 'cell failed cell succeeded'"))
            #expect(try await page.evaluate("\(cells)[0].getAttribute('aria-label')").contains("failed (worst of 2 instances)"))
            #expect(try await page.evaluate("document.querySelectorAll('#history tr[data-step=\"load\"] svg.spark').length") == "3")
            _ = try await page.evaluate("\(cells)[0].click()")
            #expect(try await page.waitFor("document.getElementById('log')?.textContent.includes('b is broken')"), "the failed instance's log")
            #expect(try await page.evaluate("location.hash").hasSuffix("/score%5Bb%5D"))
        }
    }
}

#!/usr/bin/env python3
"""The run page of a big run, measured by the browser itself (the Performance API, read over the DevTools protocol):
the first render of a finished run and of one that is running, and the time to apply each batch of events while it
runs. Run by bench/ui.sh, which starts the server and the runs.

usage: ui.py ADDRESS FINISHED_RUN PIPELINE_TO_START ROUNDS
"""
import json
import statistics
import sys
import urllib.request

from cdp import Browser

address, finished, pipeline, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
# From navigation start: the page, its scripts, the run's status and first page of steps, drawn; and from the run
# page's own start (the scripts loaded) to the same point.
FIRST_RENDER = """(() => { const mark = performance.getEntriesByName('sluice:first-render', 'mark')[0];
  const measure = performance.getEntriesByName('sluice:first-render', 'measure')[0];
  return mark ? [mark.startTime, measure.duration] : null; })()"""


def first_render(browser, run):
    browser.navigate(f"{address}/#/runs/{run}")
    browser.wait_for(FIRST_RENDER)
    return browser.evaluate(FIRST_RENDER)


with Browser() as browser:
    browser.call("Page.enable")
    times = [first_render(browser, finished) for _ in range(rounds)]
    browser.wait_for("document.getElementById('step-count').textContent.endsWith(' steps')")
    rows = browser.evaluate("document.querySelectorAll('#steps tr').length")
    print(f"finished run, first render   median {statistics.median(t[0] for t in times):6.0f} ms from navigation"
          f" ({statistics.median(t[1] for t in times):.0f} ms in the run page), {rows} table rows drawn")

    request = urllib.request.Request(f"{address}/api/pipelines/{pipeline}/runs", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
    live = json.load(urllib.request.urlopen(request))["id"]
    start = first_render(browser, live)
    browser.wait_for("document.querySelector('#heading .badge')?.textContent === 'success'", timeout=600)
    batches = sorted(browser.evaluate("performance.getEntriesByName('sluice:event-batch').map((m) => m.duration)"))
    steps = browser.evaluate("document.getElementById('counts').textContent")
    print(f"running run, first render    {start[0]:6.0f} ms from navigation ({start[1]:.0f} ms in the run page)")
    print(f"event batches while it ran   {len(batches)} batches: median {statistics.median(batches):.1f} ms,"
          f" p95 {batches[int(len(batches) * 0.95)]:.1f} ms, max {batches[-1]:.1f} ms")
    print(f"at the end                   {steps}")
    reads = browser.evaluate(f"""performance.getEntriesByType('resource').map((e) => new URL(e.name))
        .filter((u) => u.pathname.startsWith('/api/runs/{live}')).map((u) => u.pathname + u.search)""")
    print(f"requests for the run         {len(reads)}: " + ", ".join(sorted(set(r.split('?')[0].rsplit('/', 1)[-1] for r in reads))))

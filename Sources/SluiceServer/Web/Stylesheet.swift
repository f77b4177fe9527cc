/// The web UI's stylesheet: plain CSS, no framework.
enum Stylesheet {
    static let css = #"""
    :root { --fg: #1d2330; --muted: #6b7280; --line: #e5e7eb; --accent: #2563eb; --bg: #f8fafc; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
    header { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.5rem; background: #111827; color: #fff; }
    header a { color: #e5e7eb; text-decoration: none; } header .brand { font-weight: 700; font-size: 1.1rem; color: #fff; }
    header nav { display: flex; gap: 1rem; flex: 1; }
    #connection.live { color: #10b981; } #connection.down { color: #ef4444; }
    main { max-width: 1200px; margin: 1.5rem auto; padding: 0 1.5rem; }
    h1 { font-size: 1.4rem; margin: 0 0 .25rem; } h2 { font-size: 1.05rem; margin: 1.6rem 0 .5rem; }
    .muted { color: var(--muted); font-weight: normal; }
    table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
    th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
    th { font-weight: 600; font-size: .85rem; color: var(--muted); }
    a { color: var(--accent); }
    button { font: inherit; padding: .3rem .8rem; border: 1px solid var(--line); border-radius: .4rem; background: #fff; cursor: pointer; }
    button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
    button.danger { color: #b91c1c; }
    button:disabled { opacity: .5; cursor: default; }
    .badge { display: inline-block; border-radius: .7rem; padding: 0 .55rem; font-size: .8rem; background: var(--line); }
    .succeeded, .success { background: #d1fae5; } .failed, .timed_out, .interrupted { background: #fee2e2; }
    .running, .queued { background: #dbeafe; } .partial_success, .cancelled { background: #fef3c7; } .up_to_date { background: #e0e7ff; }
    .skipped, .pending { background: #f3f4f6; }
    .toolbar { display: flex; gap: .5rem; align-items: center; margin: .75rem 0; flex-wrap: wrap; }
    form.params { display: grid; grid-template-columns: max-content 1fr; gap: .5rem 1rem; align-items: center;
                  background: #fff; border: 1px solid var(--line); padding: 1rem; max-width: 640px; }
    form.params .error { grid-column: 2; color: #b91c1c; font-size: .85rem; margin-top: -.3rem; }
    input, select { font: inherit; padding: .25rem .4rem; border: 1px solid var(--line); border-radius: .3rem; }
    svg.graph, svg.gantt { background: #fff; border: 1px solid var(--line); width: 100%; }
    svg text { font-size: 12px; fill: var(--fg); }
    svg .node rect { stroke: #9ca3af; rx: 6; } svg .edge { stroke: #9ca3af; fill: none; marker-end: url(#arrow); }
    svg .node rect.succeeded { fill: #a7f3d0; } svg .node rect.failed, svg .node rect.timed_out { fill: #fecaca; }
    svg .node rect.running { fill: #bfdbfe; } svg .node rect.none { fill: #f3f4f6; } svg .node rect.up_to_date { fill: #c7d2fe; }
    svg .node rect.skipped, svg .node rect.cancelled { fill: #fde68a; }
    svg .bar.succeeded { fill: #10b981; } svg .bar.failed, svg .bar.timed_out { fill: #ef4444; } svg .bar.running { fill: #3b82f6; }
    svg .bar.cancelled, svg .bar.interrupted { fill: #f59e0b; }
    pre.log { background: #0f172a; color: #e2e8f0; padding: .75rem; max-height: 420px; overflow: auto; white-space: pre-wrap; font-size: 12.5px; }
    .diagnostics { color: #b91c1c; font-size: .85rem; white-space: pre-wrap; }
    .grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 1.5rem; } @media (max-width: 900px) { .grid2 { grid-template-columns: 1fr; } }
    .notice { padding: .5rem .75rem; background: #fef3c7; border: 1px solid #fcd34d; border-radius: .4rem; }
    """#
}

"use strict";
// The web UI's pictures, as SVG text: a run's timeline, its steps' resources, a pipeline's history grid and the small
// charts beside it. Pure functions of what the API gave; app.js puts them on the page.
/* global esc, words, enc, duration, size */
/* exported timeline, resourceChart, historyGrid, fanOutOf, severity */

/// The fan-out a step is an instance of (`map` for `map[a]`), or null.
function fanOutOf(name) {
  const open = name.indexOf("[");
  return open > 0 && name.endsWith("]") ? name.slice(0, open) : null;
}

/// States from worst to best: a fan-out shows its worst.
const severity = ["failed", "timed_out", "interrupted", "cancelled", "running", "pending", "skipped", "succeeded", "up_to_date"];

/// Past this many rows, the timeline draws all steps as one row; past this many bars, a row shows how many ran at once.
const TIMELINE_ROWS = 60, TIMELINE_BARS = 200;

/// Attempts (or steps) as bars on a time axis, a fan-out's instances on one row named with their count. A row of
/// more bars than can be told apart shows how many ran at each moment instead (darker: more), so that a run of
/// 10,000 steps draws a few hundred rectangles, not 10,000.
function timeline(items, width) {
  if (!items.length) return '<p class="muted">No attempt yet.</p>';
  const now = Date.now();
  let start = Infinity, end = -Infinity;
  const spans = items.map((a) => {
    const from = new Date(a.startedAt).getTime(), to = a.finishedAt ? new Date(a.finishedAt).getTime() : now;
    if (from < start) start = from;
    if (to > end) end = to;
    return [from, to];
  });
  const W = Math.max(300, Math.min(900, width - 2)), L = W < 600 ? 100 : 160, R = 22, plot = W - L - 10;
  const span = Math.max(end - start, 1), x = (t) => L + (t - start) / span * plot;
  // Rows are counted before they are built: a run of 10,000 steps is one row, not 10,000 built and dropped.
  const keys = items.map((a) => fanOutOf(a.step) || a.step), distinct = new Set(keys);
  let rows;
  if (distinct.size > TIMELINE_ROWS) rows = [{ name: `all ${distinct.size} steps`, indexes: keys.map((_, i) => i) }];
  else {
    const groups = new Map([...distinct].map((key) => [key, { indexes: [], members: new Set() }]));
    keys.forEach((key, index) => { groups.get(key).indexes.push(index); groups.get(key).members.add(items[index].step); });
    rows = [...groups.entries()].map(([key, g]) => ({ name: g.members.size === 1 && g.members.has(key) ? key : `${key} ×${g.members.size}`, indexes: g.indexes }));
  }
  const chars = Math.floor(L / 7);
  const labels = rows.map((row, i) => `<text x="4" y="${i * R + 15}">${esc(row.name.length > chars ? row.name.slice(0, chars - 1) + "…" : row.name)}</text>`);
  // Failures are drawn last, over the bars of the instances that ran beside them.
  const failedLast = (indexes) => indexes.filter((i) => severity.indexOf(items[i].state) > 1).concat(indexes.filter((i) => severity.indexOf(items[i].state) <= 1));
  const marks = rows.map((row, i) => row.indexes.length <= TIMELINE_BARS ? failedLast(row.indexes).map((index) => {
    const a = items[index], [from, to] = spans[index];
    return `<rect class="bar ${esc(a.state)}" x="${x(from)}" y="${i * R + 3}" width="${Math.max(2, x(to) - x(from))}" height="16"><title>${esc(a.step)}${a.attempt ? " attempt " + a.attempt : ""}: ${esc(words(a.state))}</title></rect>`;
  }).join("") : density(row, i, items, spans, { start, span, L, plot, R }));
  return `<svg class="gantt" role="img" aria-label="timeline of the attempts" width="${W}" height="${rows.length * R + 24}" viewBox="0 0 ${W} ${rows.length * R + 24}">${labels.join("")}${marks.join("")}
    <text x="${L}" y="${rows.length * R + 18}" class="muted">0s</text><text x="${W - 10}" y="${rows.length * R + 18}" text-anchor="end">${duration(span / 1000)}</text></svg>`;
}

/// How many of a row's steps ran at each moment (3-pixel buckets), and where failures ended, in red.
function density(row, i, items, spans, { start, span, L, plot, R }) {
  const buckets = Math.max(1, Math.floor(plot / 3)), change = new Float64Array(buckets + 1), failures = new Set();
  const bucket = (t) => Math.min(buckets - 1, Math.max(0, Math.floor((t - start) / span * buckets)));
  for (const index of row.indexes) {
    const [from, to] = spans[index];
    change[bucket(from)] += 1;
    change[bucket(to) + 1] -= 1;
    if (severity.indexOf(items[index].state) <= 1) failures.add(bucket(to));
  }
  let running = 0, most = 0;
  const counts = [];
  for (let b = 0; b < buckets; b += 1) { running += change[b]; counts.push(running); most = Math.max(most, running); }
  const width = plot / buckets;
  return counts.map((count, b) => count ? `<rect class="bar density" x="${L + b * width}" y="${i * R + 3}" width="${width + 0.5}" height="16" fill-opacity="${(0.2 + 0.8 * count / most).toFixed(2)}"/>` : "").join("")
    + [...failures].map((b) => `<rect class="bar failed" x="${L + b * width}" y="${i * R + 3}" width="2" height="16"/>`).join("")
    + `<title>${esc(row.name)}: ${row.indexes.length} attempts, at most ${most} at once</title>`;
}

/// Peak memory and CPU time per step side by side (a fan-out: a bar to its median, a line from least to most), as
/// `report.html` draws them.
function resourceChart(figures) {
  const rows = figures.rows.filter((r) => r.memoryKB || r.cpuSeconds);
  if (!rows.length) return '<p class="muted">Nothing measured yet.</p>';
  const R = 22, L = 160, P = 300, G = 30, W = L + 2 * P + G;
  const top = (key) => Math.max(0, ...rows.map((r) => (r[key] ? r[key].max : 0)));
  const memory = (kb) => size(kb * 1024);
  const bars = (spread, most, left, y, name, said) => {
    if (!spread || !most) return "";
    const scale = (P - 70) / most;
    const title = spread.min === spread.max ? said(spread.max) : `least ${said(spread.min)}, median ${said(spread.median)}, most ${said(spread.max)}`;
    return `<rect class="bar resource" x="${left}" y="${y + 4}" width="${Math.max(1, spread.median * scale)}" height="14"><title>${esc(name)}: ${esc(title)}</title></rect>`
      + (spread.min === spread.max ? "" : `<line class="spread" x1="${left + spread.min * scale}" x2="${left + spread.max * scale}" y1="${y + 11}" y2="${y + 11}"/>`)
      + `<text x="${left + spread.max * scale + 4}" y="${y + 16}" class="muted">${esc(said(spread.max))}</text>`;
  };
  return `<svg class="resources" role="img" aria-label="peak memory and CPU time of the steps" width="${W}" height="${rows.length * R + 24}" viewBox="0 0 ${W} ${rows.length * R + 24}">
    <text x="${L}" y="14">peak memory</text><text x="${L + P + G}" y="14">CPU time</text>
    ${rows.map((r, i) => { const y = 20 + i * R, name = r.measured > 1 ? `${r.step} ×${r.measured}` : r.step;
    return `<g data-step="${esc(r.step)}"><text x="0" y="${y + 16}">${esc(name.length > 22 ? name.slice(0, 21) + "…" : name)}</text>${bars(r.memoryKB, top("memoryKB"), L, y, name, memory)}${bars(r.cpuSeconds, top("cpuSeconds"), L + P + G, y, name, duration)}</g>`; }).join("")}
  </svg>${figures.more ? `<p class="muted">and ${figures.more} more steps with less memory, or none measured</p>` : ""}`;
}

/// A small line chart of `values` (null: the run did not have the step), its range in its title.
function sparkline(values, label, format) {
  const known = values.map((v, i) => [i, v]).filter(([, v]) => v != null);
  if (!known.length) return "";
  const W = 80, H = 18, most = Math.max(...known.map(([, v]) => v)) || 1, step = values.length > 1 ? (W - 4) / (values.length - 1) : 0;
  const points = known.map(([i, v]) => `${(2 + i * step).toFixed(1)},${(H - 2 - v / most * (H - 4)).toFixed(1)}`).join(" ");
  const least = Math.min(...known.map(([, v]) => v)), last = known[known.length - 1][1];
  return `<svg class="spark" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(label)} over the last runs: ${esc(format(least))} to ${esc(format(most))}, last ${esc(format(last))}">
    <polyline points="${points}"/><title>${esc(label)}: ${esc(format(least))} to ${esc(format(most))}, last ${esc(format(last))}</title></svg>`;
}

/// The last runs by step, as Airflow's grid: a column per run (oldest on the left), a coloured cell per step that
/// opens its log in that run, and each step's duration, peak memory and CPU time over those runs.
function historyGrid(history) {
  if (!history.runs.length) return '<p class="muted">No runs yet.</p>';
  const head = history.runs.map((r) => `<th class="run-cell"><a class="cell ${esc(r.status)}" href="#/runs/${enc(r.id)}" title="run ${esc(r.id)}: ${esc(words(r.status))}, ${esc(new Date(r.createdAt).toLocaleString())}" aria-label="run ${esc(r.id)}, ${esc(words(r.status))}"></a></th>`).join("");
  const rows = history.steps.map((row) => {
    const cells = row.cells.map((c, i) => {
      const run = history.runs[i];
      if (!c) return '<td class="run-cell"><span class="cell none" title="not in this run"></span></td>';
      const said = `${row.step} in run ${run.id}: ${words(c.state)}${c.instances ? ` (worst of ${c.instances} instances)` : ""}${c.durationSeconds != null ? ", " + duration(c.durationSeconds) : ""}`;
      return `<td class="run-cell"><a class="cell ${esc(c.state)}" href="#/runs/${enc(run.id)}/${enc(c.open)}" title="${esc(said)}" aria-label="${esc(said)}"></a></td>`;
    }).join("");
    const figure = (key) => row.cells.map((c) => (c ? c[key] : null));
    return `<tr data-step="${esc(row.step)}"><th scope="row">${esc(row.step)}</th>${cells}
      <td class="spark">${sparkline(figure("durationSeconds"), "duration", duration)}</td>
      <td class="spark">${sparkline(figure("peakMemoryKB"), "peak memory", (kb) => size(kb * 1024))}</td>
      <td class="spark">${sparkline(figure("cpuSeconds"), "CPU time", duration)}</td></tr>`;
  }).join("");
  return `<div class="table-wrap"><table class="history"><tr><th>step</th>${head}<th>duration</th><th>peak memory</th><th>CPU</th></tr>${rows}</table></div>`
    + (history.more ? `<p class="muted">and ${history.more} more steps</p>` : "");
}

"use strict";
// The run page: where a run stands, its steps (only those in view drawn), their logs, timeline and resources,
// kept current from the events. app.js routes here; charts.js draws the pictures.
/* global Stale, view, enc, esc, words, badge, when, duration, seconds, size, triggerText, patch, wrap, api, json, Offline, field,
   parameterValues, showFieldErrors, timeline, resourceChart, fanOutOf */
/* exported runView */

// ---- a run --------------------------------------------------------------------------------------------------
function selectionText(selection) {
  const parts = [];
  if (selection.steps && selection.steps.length) parts.push(`step ${selection.steps.join(", ")} ${selection.withDependencies ? "with its upstream steps" : "alone"}`);
  if (selection.only && selection.only.length) parts.push(`only ${selection.only.join(", ")}`);
  if (selection.mode) parts.push(`mode ${selection.mode}`);
  if (selection.from && selection.from.length) parts.push(`from ${selection.from.join(", ")}`);
  if (selection.to && selection.to.length) parts.push(`to ${selection.to.join(", ")}`);
  if (selection.skip && selection.skip.length) parts.push(`skipping ${selection.skip.join(", ")}`);
  return parts.length ? "Only a selection of the pipeline ran: " + parts.join("; ") + "." : "";
}

/// Why a cancelled run was cancelled, as its first stopped or skipped step says.
function cancelReason(steps) {
  for (const s of steps) {
    const said = s.state === "cancelled" ? /^cancelled(?: while waiting to retry)?: (.+)$/.exec(s.error || "")
      : s.state === "skipped" ? /^the run was cancelled: (.+)$/.exec(s.reason || "") : null;
    if (said) return said[1];
  }
  return "";
}

/// `97/100 succeeded (3 up to date), 2 failed`: a fan-out's instances counted, as the server says it.
function fanOutSummary(counts, total) {
  const upToDate = counts.up_to_date || 0, succeeded = (counts.succeeded || 0) + upToDate;
  const others = ["pending", "running", "failed", "skipped", "cancelled", "timed_out", "interrupted"].filter((s) => counts[s]).map((s) => `${counts[s]} ${words(s)}`);
  return [`${succeeded}/${total} succeeded` + (upToDate ? ` (${upToDate} up to date)` : "")].concat(others).join(", ");
}

const FAILURES = ["failed", "timed_out", "interrupted"];

/// A run's steps as the page holds them: read a page at a time, then kept current from the events alone. Counts
/// by state, a fan-out's counts, and the running and failed steps change with each event, not by a scan.
class RunSteps {
  constructor() {
    this.byName = new Map();
    this.order = [];
    this.counts = {};
    this.running = new Set();
    this.failed = new Set();
    /// Each fan-out's instances in order, and their counts by state.
    this.fanOuts = new Map();
    /// The states each step was seen in, in order (what a test of live updates reads).
    this.history = new Map();
    /// Bumped when steps come or go, so that the rows shown are listed again.
    this.shape = 0;
  }

  /// The steps counted: a fan-out over an upstream value has a row of its own, which its instances stand for.
  get size() { return this.byName.size - this.standIns().length; }

  standIns() { return [...this.fanOuts.keys()].filter((name) => this.byName.has(name)); }

  /// Steps by state, less the fan-outs' own rows.
  tally() {
    const counts = Object.assign({}, this.counts);
    for (const name of this.standIns()) counts[this.byName.get(name).state] -= 1;
    return counts;
  }

  /// A step's record, new or newer.
  put(record) {
    const old = this.byName.get(record.step);
    if (!old) {
      this.order.push(record.step);
      if (this.order.length > 1 && this.byName.get(this.order[this.order.length - 2]).position > record.position) this.sorted = false;
      const group = fanOutOf(record.step);
      if (group) {
        if (!this.fanOuts.has(group)) this.fanOuts.set(group, { members: [], counts: {} });
        this.fanOuts.get(group).members.push(record.step);
      }
      this.shape += 1;
    }
    this.byName.set(record.step, record);
    this.moved(record.step, old ? old.state : null, record.state);
  }

  /// In file order (instances a fan-out added come last, as the server numbers them).
  ordered() {
    if (this.sorted === false) {
      this.order.sort((a, b) => this.byName.get(a).position - this.byName.get(b).position);
      this.sorted = true;
    }
    return this.order;
  }

  moved(name, from, to) {
    const seen = this.history.get(name) || [];
    if (seen[seen.length - 1] !== to) seen.push(to);
    this.history.set(name, seen);
    if (from === to) return;
    const group = this.fanOuts.get(fanOutOf(name));
    for (const counts of group ? [this.counts, group.counts] : [this.counts]) {
      if (from) counts[from] -= 1;
      counts[to] = (counts[to] || 0) + 1;
    }
    if (to === "running") this.running.add(name); else this.running.delete(name);
    if (FAILURES.includes(to)) this.failed.add(name); else this.failed.delete(name);
  }

  /// What an event says of its step; false when it needs the step read again (values passed on, instances added).
  apply(event) {
    if (event.kind === "steps_added") return false;
    const record = event.step && this.byName.get(event.step);
    // A step not read yet (a big run's later pages) is read with the others that changed.
    if (!record) return !event.step;
    const from = record.state;
    switch (event.kind) {
    case "attempt_started":
      record.state = "running"; record.attempts = event.attempt; record.startedAt = record.startedAt || event.at;
      break;
    case "step_finished":
      Object.assign(record, { state: event.state, attempts: event.attempt, exitCode: event.exitCode, duration: event.duration,
        peakMemoryKB: event.peakMemoryKB, error: event.message, finishedAt: event.at });
      break;
    case "step_skipped": case "step_up_to_date":
      record.state = event.state; record.reason = event.message;
      if (event.state === "up_to_date") record.finishedAt = event.at;
      break;
    case "values_recorded": case "recovery_finished":
      return false;
    default:
      return true;
    }
    this.moved(record.step, from, record.state);
    return true;
  }

  /// The rows to show: with a filter, the steps it lets through; else each fan-out as one row (its instances after
  /// it when opened), placed where its first instance (or its own row) comes.
  rows(filter, expanded) {
    const order = this.ordered();
    if (filter.states || filter.search) {
      const search = filter.search.toLowerCase();
      return order.filter((name) => (!filter.states || filter.states.includes(this.byName.get(name).state))
        && (!search || name.toLowerCase().includes(search))).map((name) => ({ step: name }));
    }
    const rows = [], drawn = new Set();
    for (const name of order) {
      const group = this.fanOuts.has(name) ? name : fanOutOf(name);
      if (!group || !this.fanOuts.has(group)) { rows.push({ step: name }); continue; }
      if (drawn.has(group)) continue;
      drawn.add(group);
      rows.push({ fanOut: group });
      if (expanded.has(group)) this.fanOuts.get(group).members.forEach((member) => rows.push({ step: member, instance: group }));
    }
    return rows;
  }
}

/// A run's step rows are this tall (style.css keeps them so): the table draws only those in view.
const ROW_HEIGHT = 31;
/// The first page of steps is drawn at once; the others follow in bigger pages.
const FIRST_PAGE = 200, NEXT_PAGES = 2000;
/// Runs up to this size show every attempt on the timeline (read once, then kept from the events).
const SMALL_RUN = 500;
const STATE_FILTERS = { "": null, failed: FAILURES, running: ["running"], pending: ["pending"], succeeded: ["succeeded", "up_to_date"],
  skipped: ["skipped"], cancelled: ["cancelled"] };

// #/runs/ID shows the log of the step that failed, if one did, else of the one running; #/runs/ID/STEP shows STEP's.
async function runView(page, id, step) {
  performance.clearMarks();
  performance.clearMeasures();
  performance.mark("sluice:run-page");
  const path = "/api/runs/" + enc(id);
  let selected = step || null, chosen = Boolean(step), logOffset = 0, logShown = 0, outputsShown = false, actionsFor = null;
  const steps = new RunSteps(), expanded = new Set(), filter = { states: null, search: "" };
  let detail = null, status = null, attempts = null, rows = [], rowsShape = -1, seq = 0, reason = "";
  view.innerHTML = `<div id="run-head"></div><div class="toolbar" id="actions"></div><div id="retry-area"></div>
    <div id="run-body"><section aria-labelledby="steps-heading"><h2 id="steps-heading">Steps</h2>
      <form class="filters" id="step-filters" role="search"><label for="step-state">show</label><select id="step-state">
        <option value="">all steps</option><option value="failed">failed</option><option value="running">running</option>
        <option value="pending">pending</option><option value="succeeded">succeeded</option><option value="skipped">skipped</option>
        <option value="cancelled">cancelled</option></select>
        <label for="step-search">named</label><input type="search" id="step-search" placeholder="part of a step's name" autocomplete="off">
        <span class="muted" id="step-count" role="status"></span></form>
      <div class="table-wrap steps-scroll" id="steps-area"></div></section>
      <section aria-labelledby="log-heading"><h2 id="log-heading">Log <span class="muted" id="log-step"></span></h2>
        <pre class="log" id="log" tabindex="0">Choose a step above to see its log.</pre></section>
      <h2>Timeline</h2><div class="scroll" id="timeline"></div>
      <h2>Resources</h2><div class="scroll" id="resources"></div><div id="values"></div><div id="recovery"></div>
      <section aria-labelledby="outputs-heading"><h2 id="outputs-heading">Outputs</h2><div id="outputs"></div><div id="preview"></div></section>
      <div id="review"></div></div>`;
  const log = document.getElementById("log"), area = document.getElementById("steps-area");
  const isActive = () => detail && ["running", "queued"].includes(detail.run.status);
  // One listener for the buttons that live updates draw again (on the view, which outlives this page: removed with it).
  const onClick = (event) => {
    const show = event.target.closest("button.show-log"), shown = event.target.closest("button.preview");
    const toggle = event.target.closest("button.toggle-fan-out");
    if (show) { chosen = true; select(show.dataset.step); if (show.closest(".attention")) reveal(show.dataset.step); }
    if (toggle) {
      const name = toggle.dataset.fanOut;
      if (expanded.has(name)) expanded.delete(name); else expanded.add(name);
      rowsShape = -1;
      table();
    }
    if (shown) preview(page, shown.dataset.url, shown.dataset.path).catch((error) => page.fail(error));
  };
  view.addEventListener("click", onClick);
  page.onClose(() => view.removeEventListener("click", onClick));
  document.getElementById("step-filters").addEventListener("submit", (event) => event.preventDefault());
  document.getElementById("step-state").addEventListener("change", (event) => { filter.states = STATE_FILTERS[event.target.value]; rowsShape = -1; area.scrollTop = 0; table(); });
  document.getElementById("step-search").addEventListener("input", (event) => { filter.search = event.target.value.trim(); rowsShape = -1; area.scrollTop = 0; table(); });
  let drawQueued = false;
  area.addEventListener("scroll", () => {
    if (drawQueued) return;
    drawQueued = true;
    requestAnimationFrame(() => { drawQueued = false; if (page.alive) table(); });
  });

  // ---- the header: where the run stands ----
  const counted = () => (steps.size >= (status ? status.steps : 0) ? steps.tally() : status.counts);
  // Each drawing checks that this page is still the one shown: work that ends after a navigation would otherwise
  // draw this run into the next page's elements, which have the same ids.
  const head = () => {
    if (!page.alive) return;
    const r = detail.run, running = isActive(), counts = counted();
    const total = Math.max(steps.size, status.steps), finished = total - (counts.pending || 0) - (counts.running || 0);
    const percent = total ? Math.floor(finished / total * 1000) / 10 : (running ? 0 : 100);
    const elapsed = seconds(r.createdAt, r.finishedAt || (running ? new Date() : null));
    if (r.status !== "cancelled") reason = "";
    else if (!reason && steps.size >= status.steps) reason = cancelReason(steps.ordered().map((n) => steps.byName.get(n)));
    const order = ["failed", "timed_out", "interrupted", "cancelled", "running", "succeeded", "up_to_date", "skipped", "pending"];
    const bar = order.filter((s) => counts[s]).map((s) => `<span class="segment ${s}" style="width:${counts[s] / total * 100}%" title="${counts[s]} ${words(s)}"></span>`).join("");
    const left = running && status.estimatedSeconds != null ? ` · <span id="eta">${status.estimatedSeconds > elapsed
      ? `about ${duration(status.estimatedSeconds - elapsed)} left` : "longer than usual"}, earlier runs took ${duration(status.estimatedSeconds)}</span>` : "";
    const link = (label) => (name) => `<button type="button" class="link show-log" data-step="${esc(name)}" data-focus="${label}-${esc(name)}" aria-label="Show the log of ${esc(name)} (${label})">${esc(name)}</button>`;
    const list = (label, names, count) => names.length ? `<p class="attention ${label}"><b>${count} ${label}:</b> ${names.map(link(label)).join(", ")}${count > names.length ? ` and ${count - names.length} more` : ""}</p>` : "";
    const failedNames = steps.size >= status.steps ? [...steps.failed].slice(0, 20) : status.failed.map((f) => f.step);
    const runningNames = steps.size >= status.steps ? [...steps.running].slice(0, 20) : status.running.map((f) => f.step);
    patch(document.getElementById("run-head"), `<h1 tabindex="-1" id="heading">Run ${esc(r.id)} <a class="muted" href="#/pipelines/${enc(r.pipeline)}">${esc(r.pipeline)}</a> ${badge(r.status)}</h1>
      <p class="muted">started ${when(r.createdAt)} · ${triggerText(r.trigger)} · <span id="elapsed">${duration(elapsed)}</span>
      ${Object.entries(r.parameters).map(([k, v]) => ` · ${esc(k)}=${esc(v)}`).join("")}</p>
      ${detail.parent ? `<p class="muted">started by step ${esc(detail.parent.step)} of <a href="#/runs/${enc(detail.parent.run)}/${enc(detail.parent.step)}">${esc(detail.parent.run)}</a></p>` : ""}
      <div class="progress" id="progress" role="progressbar" aria-label="steps finished" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${percent}">${bar}</div>
      <p id="counts"><b>${percent}%</b> · ${finished} of ${total} steps finished: ${order.filter((s) => counts[s]).map((s) => `<span class="count ${s}">${counts[s]} ${words(s)}</span>`).join(" · ")}${left}</p>
      ${list("failed", failedNames, steps.size >= status.steps ? steps.failed.size : status.failedCount)}
      ${list("running", runningNames, steps.size >= status.steps ? steps.running.size : status.runningCount)}
      ${selectionText(r.selection) ? `<p class="note" id="selection">${esc(selectionText(r.selection))}</p>` : ""}
      ${reason ? `<p class="note cancelled" id="cancel-reason">Cancelled: ${esc(reason)}.</p>` : ""}`);
    // The buttons are drawn again only when the run's status changes: a confirmation or a retry form stays open.
    if (actionsFor !== r.status) { actionsFor = r.status; actions(running); }
  };

  const actions = (running) => {
    const r = detail.run, bar = document.getElementById("actions");
    const canRetry = !running && r.status !== "success";
    bar.innerHTML = `<span id="cancel-area"><button type="button" class="danger" id="cancel" ${running ? "" : "disabled"}>Cancel run</button></span>
      <button type="button" id="resume" ${canRetry ? "" : "disabled"} title="Run the steps that did not succeed, in this run">Resume</button>
      <button type="button" id="retry" ${canRetry ? "" : "disabled"} aria-expanded="false" aria-controls="retry-form" title="A new run of the steps that did not succeed">Retry failed steps…</button>
      ${running ? "" : `<a href="${path}/report" target="_blank">Report</a>
      · Export <a href="${path}/export?format=json">JSON</a> <a href="${path}/export?format=csv">CSV</a> <a href="${path}/export?format=xlsx">XLSX</a>`}`;
    document.getElementById("cancel").onclick = confirmCancel;
    document.getElementById("resume").onclick = () => json(`${path}/resume`, { method: "POST" }).then(() => refreshRun()).catch((error) => page.fail(error));
    document.getElementById("retry").onclick = () => retryForm(page, detail).catch((error) => page.fail(error));
  };

  // Cancel asks first, in the page (a dialog box would stop the live updates behind it).
  const confirmCancel = () => {
    const box = document.getElementById("cancel-area");
    box.innerHTML = `<span role="alert">Cancel run ${esc(id)}? Its running steps are stopped.</span>
      <button type="button" class="danger" id="cancel-yes">Yes, cancel the run</button> <button type="button" id="cancel-no">Keep it running</button>`;
    document.getElementById("cancel-no").focus();
    document.getElementById("cancel-no").onclick = () => { actions(true); document.getElementById("cancel").focus(); };
    document.getElementById("cancel-yes").onclick = () => {
      document.getElementById("heading").focus();
      json(`${path}/cancel`, { method: "POST" }).then(() => refreshRun()).catch((error) => page.fail(error));
    };
  };

  // ---- the steps: only the rows in view are drawn ----
  const children = () => Object.fromEntries((detail.children || []).map((c) => [c.step, c]));
  const row = (s, instance, links) => {
    const history = (steps.history.get(s.step) || []).join(" "), child = links[s.step];
    const note = s.error || s.reason || "";
    return `<tr data-step="${esc(s.step)}" data-state="${esc(s.state)}" data-history="${esc(history)}"${instance ? ' class="instance"' : ""}>
      <td><button type="button" class="link show-log" data-step="${esc(s.step)}" data-focus="log-${esc(s.step)}" aria-label="Show the log of ${esc(s.step)}" ${s.step === selected ? 'aria-current="true"' : ""}>${esc(s.step)}</button></td>
      <td>${badge(s.state)}${s.recovered ? " recovered" : ""}</td><td>${s.attempts}</td>
      <td>${s.exitCode == null ? "" : s.exitCode}</td><td>${duration(s.duration)}</td>
      <td>${s.peakMemoryKB != null ? size(s.peakMemoryKB * 1024) : s.attempts && s.state !== "running" ? '<span class="muted" title="not measured: the step ended before it could be">unknown</span>' : ""}</td>
      <td title="${esc(note)}">${child ? `child run <a href="#/runs/${enc(child.id)}" data-child="${esc(child.id)}">${esc(child.id)}</a> of ${esc(child.pipeline)} ` : ""}${esc(note)}</td></tr>`;
  };
  const fanOutRow = (name) => {
    const f = steps.fanOuts.get(name), open = expanded.has(name), total = f.members.length;
    return `<tr class="fan-out" data-fan-out="${esc(name)}"><td><button type="button" class="link toggle-fan-out" data-fan-out="${esc(name)}"
      data-focus="fan-out-${esc(name)}" aria-expanded="${open}" aria-label="${open ? "Hide" : "Show"} the ${total} instances of ${esc(name)}">${open ? "▾" : "▸"} ${esc(name)}</button></td>
      <td colspan="6">${esc(fanOutSummary(f.counts, total))} <span class="muted">(${total} instance${total === 1 ? "" : "s"})</span></td></tr>`;
  };
  const table = () => {
    if (!page.alive) return;
    if (rowsShape !== steps.shape) { rows = steps.rows(filter, expanded); rowsShape = steps.shape; }
    const height = area.clientHeight || 600, first = Math.max(0, Math.floor(area.scrollTop / ROW_HEIGHT) - 10);
    const last = Math.min(rows.length, first + Math.ceil(height / ROW_HEIGHT) + 20), links = children();
    const shown = rows.slice(first, last).map((r) => (r.fanOut ? fanOutRow(r.fanOut) : row(steps.byName.get(r.step), r.instance, links))).join("");
    const spacer = (count) => (count > 0 ? `<tr class="spacer" aria-hidden="true"><td colspan="7" style="height:${count * ROW_HEIGHT}px"></td></tr>` : "");
    patch(area, `<table id="steps"><thead><tr><th>step</th><th>state</th><th>attempts</th><th>exit</th><th>duration</th><th>peak memory</th><th>note</th></tr></thead>
      <tbody>${spacer(first)}${shown}${spacer(rows.length - last)}</tbody></table>`);
    const loading = status.steps > steps.size ? ` · reading ${status.steps - steps.size} more…` : "";
    document.getElementById("step-count").textContent = (filter.states || filter.search ? `${rows.length} of ${steps.size} steps` : `${steps.size} steps`) + loading;
  };

  /// Scrolls the table to a step named in the header, if the rows shown hold it.
  const reveal = (name) => {
    const index = rows.findIndex((r) => r.step === name);
    if (index < 0) return;
    area.scrollTop = Math.max(0, index * ROW_HEIGHT - area.clientHeight / 2);
    table();
  };
  const timelineItems = () => attempts || steps.ordered().map((n) => steps.byName.get(n)).filter((s) => s.startedAt);
  const drawTimeline = () => { if (page.alive) document.getElementById("timeline").innerHTML = timeline(timelineItems(), document.getElementById("timeline").clientWidth || 900); };

  // What steps passed on ($SLUICE_OUTPUT), the first 50 of them: a big fan-out's are in the export.
  const values = () => {
    if (!page.alive) return;
    const passing = [];
    for (const name of steps.ordered()) {
      const s = steps.byName.get(name);
      if (s.outputValues && Object.keys(s.outputValues).length) passing.push(s);
      if (passing.length > 50) break;
    }
    document.getElementById("values").innerHTML = passing.length ? `<h2>Values passed on</h2>${wrap(`<table id="values-table"><tr><th>step</th><th>key</th><th>value</th></tr>
      ${passing.slice(0, 50).flatMap((s) => Object.keys(s.outputValues).sort().map((k) =>
    `<tr data-step="${esc(s.step)}"><td>${esc(s.step)}</td><td>${esc(k)}</td><td><pre class="value">${esc(s.outputValues[k])}</pre></td></tr>`)).join("")}</table>`)}
      ${passing.length > 50 ? '<p class="muted">and more steps: see the JSON export</p>' : ""}` : "";
  };

  const extras = async () => {
    document.getElementById("recovery").innerHTML = detail.recoveryActions.length ? `<h2>Recovery actions</h2>${wrap(`<table>${detail.recoveryActions.map((a) =>
      `<tr><td>${esc(a.step)}</td><td>${esc(a.action.kind)}</td><td>${badge(a.action.status === "SUCCESS" ? "succeeded" : "failed")}</td><td>${esc(a.action.message)}</td></tr>`).join("")}</table>`)}` : "";
    if (isActive()) {
      outputsShown = false;
      document.getElementById("outputs").innerHTML = '<p class="muted">listed when the run ends</p>';
      document.getElementById("resources").innerHTML = '<p class="muted">drawn when the run ends</p>';
    } else if (!outputsShown) {
      outputsShown = true;
      // What cannot be read is drawn empty, unless the page has changed meanwhile.
      const read = (route, empty) => page.json(route).catch((error) => { if (error instanceof Stale) throw error; return empty; });
      const [outputs, notes, figures] = await Promise.all([read(`${path}/outputs`, []), read(`${path}/notifications`, []),
        read(`${path}/resources`, { rows: [], more: 0 })]);
      document.getElementById("outputs").innerHTML = outputsList(outputs, path);
      document.getElementById("resources").innerHTML = resourceChart(figures);
      document.getElementById("review").innerHTML = notes.length ? `<section aria-labelledby="review-heading"><h2 id="review-heading">Manual review</h2>
        <p class="muted">The notification this run wrote for someone to review it.</p>${notes.map((n) => `<details><summary>${esc(n.file)}</summary><pre class="review">${esc(n.text)}</pre></details>`).join("")}</section>` : "";
    }
  };

  // ---- reading: the run, its status, its steps a page at a time; then only what changed ----
  // The status first: the live stream starts after its seq, so whatever the run's record misses comes as an event.
  const refreshRun = async () => {
    status = await page.json(path + "/status");
    detail = await page.json(path + "?steps=false");
    head();
    // A big run's timeline moves with the ticker, which stops when the run ends: drawn once more then.
    if (!isActive() && document.getElementById("timeline").innerHTML) drawTimeline();
    await extras();
  };
  /// Steps whose records changed after `seq` (values passed on, instances added, what happened while offline).
  const readChanged = async () => {
    let after = null;
    do {
      const changed = await page.json(`${path}/steps?since=${seq}&limit=${NEXT_PAGES}${after ? "&after=" + after : ""}`);
      changed.steps.forEach((s) => steps.put(s));
      after = changed.next;
      // Reads of changes never overlap: batches wait for each other, and the first render reads before any batch.
      // eslint-disable-next-line require-atomic-updates
      if (!after) seq = Math.max(seq, changed.seq);
    } while (after);
  };
  const readRest = async (after) => {
    while (after && page.alive) {
      const more = await page.json(`${path}/steps?limit=${NEXT_PAGES}&after=${after}`);
      // Only steps not known yet: those known came with an event or a read of changes, newer than this page.
      more.steps.forEach((s) => { if (!steps.byName.has(s.step)) steps.put(s); });
      after = more.next;
      table();
    }
    head();
    values();
    drawTimeline();
  };

  // Events are applied in batches, at most every 100 ms; a batch patches the model, the header and the rows in view.
  let queue = [], batchTimer = null;
  // Batches never overlap: the next waits until this one has read what it needed.
  const applyBatch = async () => {
    const batch = queue;
    queue = [];
    let needsRead = false, needsRun = false, needsRows = false;
    performance.mark("sluice:batch-start");
    for (const event of batch) {
      if (event === null) { needsRead = true; needsRun = true; continue; }
      // A resume or an interruption changes steps without an event each: the read of changes brings them all.
      if (!steps.apply(event) || event.kind === "run_resumed" || event.kind === "run_interrupted") needsRead = true;
      if (!event.step && event.kind !== "steps_added") needsRun = true;
      if (event.step && filter.states) needsRows = true;
      if (event.kind === "reports_written") outputsShown = false;
      if (attempts && event.step) {
        // The first read of attempts may have had this one already.
        const known = attempts.find((x) => x.step === event.step && x.attempt === event.attempt);
        if (event.kind === "attempt_started" && !known) attempts.push({ step: event.step, attempt: event.attempt, state: "running", startedAt: event.at });
        if (event.kind === "attempt_finished" && known) Object.assign(known, { state: event.state, finishedAt: event.at });
      }
      if (event.seq > seq && !needsRead) seq = event.seq;
    }
    head();
    if (needsRows) rowsShape = -1;
    table();
    // A big run's timeline moves with the ticker, once a second, not with every batch.
    if (attempts) drawTimeline();
    performance.mark("sluice:batch-end");
    performance.measure("sluice:event-batch", "sluice:batch-start", "sluice:batch-end");
    performance.clearMarks("sluice:batch-start");
    performance.clearMarks("sluice:batch-end");
    // The measures are what a benchmark reads; a page left open for hours keeps the last thousand.
    if (performance.getEntriesByName("sluice:event-batch").length > 1000) performance.clearMeasures("sluice:event-batch");
    // What events do not say is read after the batch is drawn: the run when it starts, ends or resumes, steps'
    // values and new instances, and everything after a resume or while the stream was down.
    if (needsRun) await refreshRun();
    if (needsRead) { await readChanged(); table(); values(); }
    readLog().catch(() => {});
  };
  const schedule = () => {
    batchTimer = setTimeout(() => {
      if (!page.alive) return;
      applyBatch().catch((error) => page.fail(error)).finally(() => { batchTimer = null; if (queue.length) schedule(); });
    }, 100);
  };
  const onEvent = (event) => {
    queue.push(event);
    if (!batchTimer) schedule();
  };
  page.onClose(() => clearTimeout(batchTimer));

  const select = (name) => {
    selected = name; logOffset = 0; logShown += 1; log.textContent = ""; document.getElementById("log-step").textContent = name;
    area.querySelectorAll("button.show-log").forEach((button) => {
      if (button.dataset.step === name) button.setAttribute("aria-current", "true"); else button.removeAttribute("aria-current");
    });
    window.history.replaceState(null, "", `#/runs/${enc(id)}/${enc(name)}`);
    readLog().catch((error) => page.fail(error));
  };
  // One read at a time (the ticker and events both ask), each from where the last ended; a read for a step no
  // longer shown is dropped.
  let reading = null, again = false;
  const readOnce = async () => {
    const shown = logShown, offset = logOffset;
    const response = await api(`${path}/steps/${enc(selected)}/log?offset=${offset}`);
    const text = response.ok ? await response.text() : "";
    if (!page.alive || shown !== logShown) return;
    // Reads never overlap (readLog), and one for a step no longer shown was dropped just above.
    // eslint-disable-next-line require-atomic-updates
    logOffset = offset + new TextEncoder().encode(text).length;
    log.textContent += text;
    const record = steps.byName.get(selected);
    if (!log.textContent) log.textContent = record && !["pending", "running"].includes(record.state) ? "(no output)" : "(no output yet)";
    log.scrollTop = log.scrollHeight;
  };
  const readLog = () => {
    if (!selected) return Promise.resolve();
    if (reading) { again = true; return reading; }
    reading = (async () => {
      do { again = false; await readOnce(); } while (again && page.alive);
    })().finally(() => { reading = null; });
    return reading;
  };

  // The first render: the header and the first page of steps, then the live stream from where that page was read.
  await refreshRun();
  const firstPage = await page.json(`${path}/steps?limit=${FIRST_PAGE}`);
  firstPage.steps.forEach((s) => steps.put(s));
  seq = status.seq;
  if (status.steps <= SMALL_RUN) attempts = (await page.json(`${path}/attempts?limit=5000`)).attempts;
  table();
  drawTimeline();
  values();
  performance.mark("sluice:first-render");
  performance.measure("sluice:first-render", "sluice:run-page", "sluice:first-render");
  page.live({ run: id, after: seq }, onEvent);
  // Until the user picks a step: the one that failed, else the one running, its fan-out opened to show it.
  if (!chosen) {
    const pick = (status.failed[0] || status.running[0] || {}).step || [...steps.failed][0] || [...steps.running][0];
    const group = pick && fanOutOf(pick);
    if (group && steps.fanOuts.has(group)) { expanded.add(group); rowsShape = -1; table(); }
    if (pick) select(pick);
  } else select(selected);
  readRest(firstPage.next).catch((error) => page.fail(error));
  // The timeline is drawn as wide as the page: again when the window's width changes.
  const redraw = page.throttle(200, async () => drawTimeline());
  window.addEventListener("resize", redraw);
  page.onClose(() => window.removeEventListener("resize", redraw));
  // While it runs: the elapsed time and the timeline move, and the log grows, between events too.
  page.every(1000, () => {
    if (!isActive()) return;
    document.getElementById("elapsed").textContent = duration(seconds(detail.run.createdAt, new Date()));
    drawTimeline();
    readLog().catch(() => {});
  });
}

async function retryForm(page, detail) {
  const area = document.getElementById("retry-area");
  const button = document.getElementById("retry");
  if (area.innerHTML) { area.innerHTML = ""; button.setAttribute("aria-expanded", "false"); return; }
  const pipeline = await page.json("/api/pipelines/" + enc(detail.run.pipeline));
  const values = detail.run.parameters;
  area.innerHTML = `<form class="params" id="retry-form" aria-label="retry with parameters" novalidate>
    <p class="wide muted">A new run of the steps that did not succeed. Change a parameter if the failure needs it.</p>
    ${pipeline.parameters.map((parameter) => field(parameter, values[parameter.name] != null ? values[parameter.name] : parameter.defaultValue)).join("") || '<p class="wide muted">no parameters</p>'}
    <div class="wide toolbar"><button class="primary" type="submit">Retry</button></div><div class="error wide" id="retry-error" role="alert" hidden></div></form>`;
  button.setAttribute("aria-expanded", "true");
  const form = document.getElementById("retry-form");
  (form.querySelector("input, select") || form.querySelector("button")).focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    // An emptied field is sent empty: a retry may clear what the run had.
    const { params, fields } = parameterValues(form, { keepEmpty: true });
    if (Object.keys(fields).length) return showFieldErrors(form, { body: { fields } }, document.getElementById("retry-error"));
    const changed = Object.fromEntries(Object.entries(params).filter(([k, v]) => String(v) !== (values[k] == null ? "" : values[k])));
    try {
      const next = await json(`/api/runs/${enc(detail.run.id)}/retry`, { method: "POST", body: JSON.stringify({ params: changed }) });
      if (page.alive) location.hash = "#/runs/" + next.id;
    } catch (error) {
      if (error instanceof Offline) return page.fail(error);
      showFieldErrors(form, error, document.getElementById("retry-error"));
    }
  });
}

function outputsList(outputs, runPath) {
  if (!outputs.length) return '<p class="muted">none</p>';
  return `<ul class="outputs">${outputs.map((o) => {
    const url = `${runPath}/outputs/${o.path.split("/").map(enc).join("/")}`;
    const kind = /\.(md|markdown|csv)$/i.test(o.path) && o.size <= (2 << 20) ? `<button type="button" class="link preview" data-url="${esc(url)}" data-path="${esc(o.path)}" aria-label="Preview ${esc(o.path)}">preview</button>` : "";
    return `<li><a href="${url}" download>${esc(o.path)}</a> <span class="muted">${size(o.size)}</span> · ${kind || `<a href="${url}?view=true" target="_blank" aria-label="View ${esc(o.path)}">view</a>`}</li>`;
  }).join("")}</ul>`;
}

/// A Markdown output rendered, a CSV output as a table: escaped first, so a step's file cannot run script here.
async function preview(page, url, path) {
  const response = await api(url);
  const text = await response.text();
  if (!page.alive) return;
  const target = document.getElementById("preview");
  target.innerHTML = `<h3>${esc(path)}</h3>` + (/\.csv$/i.test(path) ? csvTable(text) : `<div class="markdown">${markdown(text)}</div>`);
  target.querySelector("h3").setAttribute("tabindex", "-1");
  target.querySelector("h3").focus();
}

function csvRows(text) {
  const rows = [];
  let row = [], cell = "", quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i += 1; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(cell); cell = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i += 1;
      row.push(cell); rows.push(row); row = []; cell = "";
    } else cell += c;
  }
  if (cell !== "" || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

function csvTable(text) {
  const rows = csvRows(text), shown = rows.slice(1, 501);
  if (!rows.length) return '<p class="muted">empty</p>';
  return wrap(`<table class="csv"><tr>${rows[0].map((h) => `<th>${esc(h)}</th>`).join("")}</tr>${shown.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("")}</table>`)
    + (rows.length - 1 > shown.length ? `<p class="muted">${rows.length - 1 - shown.length} more rows not shown; download the file for all of them.</p>` : "");
}

function inline(text) {
  return esc(text)
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[^*])\*([^*]+)\*/g, "$1<em>$2</em>")
    .replace(/\[([^\]]+)\]\((#[^\s)]*)\)/g, '<a href="$2">$1</a>')
    .replace(/\[([^\]]+)\]\(((?:https?:\/\/|\.{0,2}\/)[^\s)]*)\)/g, '<a href="$2" rel="noreferrer noopener" target="_blank">$1</a>');
}

function markdown(text) {
  const lines = text.replace(/\r\n?/g, "\n").split("\n"), out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (/^```/.test(line)) {
      const code = [];
      for (i += 1; i < lines.length && !/^```/.test(lines[i]); i += 1) code.push(lines[i]);
      out.push(`<pre><code>${esc(code.join("\n"))}</code></pre>`); i += 1;
    } else if (/^#{1,6}\s/.test(line)) {
      const level = Math.min(6, line.match(/^#+/)[0].length + 2);
      out.push(`<h${level}>${inline(line.replace(/^#+\s*/, ""))}</h${level}>`); i += 1;
    } else if (/^\s*\|/.test(line) && /^\s*\|?\s*:?-{3,}/.test(lines[i + 1] || "")) {
      const cells = (row) => row.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim());
      const header = cells(line), body = [];
      for (i += 2; i < lines.length && /^\s*\|/.test(lines[i]); i += 1) body.push(cells(lines[i]));
      out.push(wrap(`<table><tr>${header.map((h) => `<th>${inline(h)}</th>`).join("")}</tr>${body.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join("")}</tr>`).join("")}</table>`));
    } else if (/^\s*([-*+]|\d+\.)\s/.test(line)) {
      const ordered = /^\s*\d+\./.test(line), items = [];
      for (; i < lines.length && /^\s*([-*+]|\d+\.)\s/.test(lines[i]); i += 1) items.push(`<li>${inline(lines[i].replace(/^\s*([-*+]|\d+\.)\s/, ""))}</li>`);
      out.push(ordered ? `<ol>${items.join("")}</ol>` : `<ul>${items.join("")}</ul>`);
    } else if (!line.trim()) {
      i += 1;
    } else {
      const paragraph = [];
      for (; i < lines.length && lines[i].trim() && !/^(#{1,6}\s|```|\s*([-*+]|\d+\.)\s|\s*\|)/.test(lines[i]); i += 1) paragraph.push(lines[i]);
      if (!paragraph.length) { paragraph.push(lines[i]); i += 1; }
      out.push(`<p>${inline(paragraph.join(" "))}</p>`);
    }
  }
  return out.join("\n");
}


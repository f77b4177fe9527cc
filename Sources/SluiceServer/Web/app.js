"use strict";
// The web UI: plain JavaScript, no build step. One view at a time (the pipelines, a pipeline, the runs, a run),
// each drawn by route(). A view is a Page: what it fetches after another view replaced it is dropped, and it holds
// at most one live connection, closed with its timers when the view changes. The run page is run.js; the
// pictures are charts.js (both loaded before this file).
/* global runView, historyGrid */
/* exported Stale, Offline, seconds, size, wrap, field, parameterValues, showFieldErrors */

const view = document.getElementById("view");
const connection = document.getElementById("connection");
/// Start a live stream from the newest event: a number past the store's newest means "what comes next".
const NOW = Number.MAX_SAFE_INTEGER;
const RUN_STATUSES = ["running", "queued", "success", "partial_success", "failed", "cancelled", "interrupted"];
const TRIGGERS = ["cli", "api", "step", "schedule", "watch", "backfill", "retry", "parent"];
const PAGE_SIZE = 50;

// ---- API --------------------------------------------------------------------------------------------------
class Stale extends Error {}
class Offline extends Error {
  constructor() { super("The Sluice server cannot be reached."); }
}

function token() { return localStorage.getItem("sluiceToken") || ""; }

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (token()) headers["Authorization"] = "Bearer " + token();
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, Object.assign({}, options, { headers }));
  } catch (error) {
    throw new Offline();
  }
  if (response.status === 401) { askToken(); throw new Error("unauthorized"); }
  return response;
}

async function json(path, options) {
  const response = await api(path, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error((body.error && body.error.message) || response.statusText);
    error.body = body;
    error.status = response.status;
    throw error;
  }
  body.total = Number(response.headers.get("X-Total-Count"));
  return body;
}

function askToken() {
  const value = prompt("This server needs its token (SLUICE_TOKEN):");
  if (value) { localStorage.setItem("sluiceToken", value); route(); }
}

// ---- the view on screen -------------------------------------------------------------------------------------
class Page {
  constructor(name) {
    this.name = name;
    this.alive = true;
    this.cleanups = [];
  }

  /// A GET whose answer is dropped (by throwing Stale) if the view changed meanwhile.
  async json(path, options) {
    const body = await json(path, options);
    if (!this.alive) throw new Stale();
    return body;
  }

  onClose(fn) { this.cleanups.push(fn); }

  close() {
    this.alive = false;
    this.cleanups.forEach((fn) => fn());
    this.cleanups = [];
  }

  every(ms, fn) {
    const timer = setInterval(() => { if (this.alive) fn(); }, ms);
    this.onClose(() => clearInterval(timer));
  }

  /// `fn` at most once per `ms`, never after the view changed.
  throttle(ms, fn) {
    let timer = null;
    this.onClose(() => clearTimeout(timer));
    return () => {
      if (timer) return;
      timer = setTimeout(() => { timer = null; if (this.alive) fn().catch((error) => this.fail(error)); }, ms);
    };
  }

  /// Live events, on this view's one WebSocket: reconnects with backoff (1 s, doubling to 30 s), resumes after the
  /// last event it saw, and calls `onEvent(null)` after a reconnect, for what may have happened while it was down.
  live(query, onEvent) {
    let socket = null, timer = null, last = query.after, delay = 1000, dropped = false;
    const open = () => {
      const url = new URL("/api/events", location.href);
      url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
      if (query.run) url.searchParams.set("run", query.run);
      url.searchParams.set("after", String(last));
      if (token()) url.searchParams.set("access_token", token());
      showConnection("connecting");
      socket = new WebSocket(url);
      socket.onopen = () => {
        delay = 1000;
        showConnection("live");
        if (dropped) { dropped = false; onEvent(null); }
      };
      socket.onmessage = (message) => { const event = JSON.parse(message.data); last = event.seq; onEvent(event); };
      socket.onclose = () => {
        socket = null;
        if (!this.alive) return;
        dropped = true;
        showConnection("retrying", delay);
        timer = setTimeout(open, delay);
        delay = Math.min(delay * 2, 30000);
      };
    };
    open();
    this.onClose(() => {
      clearTimeout(timer);
      if (socket) { socket.onclose = null; socket.close(); }
    });
  }

  /// Shows what went wrong; a server that cannot be reached is tried again until it answers.
  fail(error) {
    if (error instanceof Stale || !this.alive || (error && error.message === "unauthorized")) return;
    if (error instanceof Offline) return retryRoute(this);
    notice(error.message || String(error));
  }
}

let page = null;
let offlineDelay = 1000;

function showConnection(state, delay) {
  const label = { live: "live", connecting: "connecting", retrying: `offline, retrying in ${Math.round((delay || 0) / 1000)} s` }[state];
  connection.className = state;
  connection.title = "live updates: " + label;
  connection.querySelector(".label").textContent = label;
}

function notice(message, kind = "notice") {
  const box = document.createElement("p");
  box.className = kind;
  box.setAttribute("role", "alert");
  box.textContent = message;
  view.prepend(box);
  return box;
}

function retryRoute(failed) {
  const seconds = Math.round(offlineDelay / 1000);
  showConnection("retrying", offlineDelay);
  view.querySelectorAll(".offline").forEach((box) => box.remove());
  notice(`Cannot reach the Sluice server at ${location.host}. Trying again in ${seconds} s; this page recovers by itself.`, "notice offline");
  const timer = setTimeout(() => { if (failed.alive) route({ keepFocus: true }); }, offlineDelay);
  failed.onClose(() => clearTimeout(timer));
  offlineDelay = Math.min(offlineDelay * 2, 30000);
}

// ---- formatting -------------------------------------------------------------------------------------------
const esc = (text) => String(text == null ? "" : text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const words = (state) => String(state).replace(/_/g, " ");
const badge = (state) => state ? `<span class="badge ${esc(state)}">${esc(words(state))}</span>` : "";
const enc = encodeURIComponent;

function duration(seconds) {
  if (seconds == null) return "";
  if (seconds < 1) return Math.round(seconds * 1000) + "ms";
  if (seconds < 60) return seconds.toFixed(1) + "s";
  if (seconds < 3600) return Math.floor(seconds / 60) + "m" + Math.floor(seconds % 60) + "s";
  return Math.floor(seconds / 3600) + "h" + Math.floor((seconds % 3600) / 60) + "m";
}

/// A date and time with its zone: the browser's own, or `zone` (a schedule's). Runs' times have seconds (runs
/// started in one minute must be told apart); schedules' do not.
function when(date, zone) {
  if (!date) return "";
  const options = { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" };
  if (!zone) options.second = "2-digit";
  if (zone) options.timeZone = zone;
  try { return new Intl.DateTimeFormat(undefined, options).format(new Date(date)); } catch (error) {
    return new Date(date).toLocaleString();
  }
}

const seconds = (from, to) => (from && to) ? (new Date(to) - new Date(from)) / 1000 : null;

function size(bytes) {
  if (bytes == null) return "";
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function triggerText(trigger) {
  const retried = /^retry:(.+)$/.exec(trigger || "");
  if (retried) return `retry of <a href="#/runs/${enc(retried[1])}">${esc(retried[1])}</a>`;
  // A run that a `pipeline:` step started: parent:RUN:STEP (run ids hold no ':').
  const parent = /^parent:([^:]+):(.+)$/.exec(trigger || "");
  if (parent) return `step ${esc(parent[2])} of <a href="#/runs/${enc(parent[1])}/${enc(parent[2])}">${esc(parent[1])}</a>`;
  return esc(trigger);
}

/// Replaces what `element` shows, if it changed; a control focused in it is focused again in the new content
/// (found by its id or its data-focus), so live updates never throw a keyboard user back to the top.
function patch(element, html) {
  if (element.innerHTML === html) return;
  const focused = element.contains(document.activeElement) ? document.activeElement : null;
  const key = focused && (focused.id ? `#${CSS.escape(focused.id)}` : focused.dataset.focus ? `[data-focus="${CSS.escape(focused.dataset.focus)}"]` : null);
  element.innerHTML = html;
  if (key) { const again = element.querySelector(key); if (again) again.focus(); }
}

const wrap = (table) => `<div class="table-wrap">${table}</div>`;
const slug = (name) => String(name).replace(/[^A-Za-z0-9_-]/g, (c) => "_" + c.charCodeAt(0).toString(16));

// ---- the pipelines ------------------------------------------------------------------------------------------
async function pipelinesView(page) {
  const pipelines = await page.json("/api/pipelines");
  view.innerHTML = `<h1 tabindex="-1">Pipelines</h1><p class="muted">${pipelines.length} in the workspace; files are picked up as they change.</p>
    <div id="pipelines"></div>`;
  const render = (list) => {
    document.getElementById("pipelines").innerHTML = wrap(`<table><tr><th>pipeline</th><th>description</th><th>last run</th><th>next run</th><th>steps completed</th><th>tested</th></tr>
      ${list.map((p) => `<tr data-pipeline="${esc(p.id)}"><td><a href="#/pipelines/${enc(p.id)}">${esc(p.name)}</a>
        ${p.valid ? "" : `<div class="diagnostics">${p.diagnostics.map((d) => esc(d.location + ": " + d.message)).join("\n")}</div>`}</td>
        <td>${esc(p.description)}</td>
        <td>${p.lastRun ? `${badge(p.lastRun.status)} <a href="#/runs/${esc(p.lastRun.id)}">${esc(p.lastRun.id)}</a>` : '<span class="muted">never</span>'}</td>
        <td class="next">${nextRun(p)}</td>
        <td>${p.stepsCompleted} / ${p.steps}</td><td>${p.stepsTested} / ${p.steps}</td></tr>`).join("")}</table>`);
  };
  render(pipelines);
  const refresh = page.throttle(1000, async () => render(await page.json("/api/pipelines")));
  page.live({ after: NOW }, refresh);
  // Pipeline files come and go without events.
  page.every(10000, refresh);
}

function nextRun(p) {
  if (!p.triggers || !p.triggers.length) return '<span class="muted">by hand</span>';
  if (p.paused) return '<span class="badge paused">paused</span>';
  const next = p.triggers.filter((t) => t.nextTime).sort((a, b) => new Date(a.nextTime) - new Date(b.nextTime))[0];
  const watching = p.triggers.some((t) => t.kind === "watch");
  return [next ? `<span title="your time: ${esc(when(next.nextTime))}">${esc(when(next.nextTime, next.timezone))}</span>` : "",
    watching ? '<span class="muted">on new files</span>' : ""].filter(Boolean).join("<br>");
}

// ---- a pipeline ---------------------------------------------------------------------------------------------
async function pipelineView(page, id) {
  const path = "/api/pipelines/" + enc(id);
  let detail = await page.json(path);
  const p = detail.summary;
  const stepOptions = (empty) => `<option value="">${empty}</option>` + detail.steps.map((s) => `<option>${esc(s.name)}</option>`).join("");
  view.innerHTML = `<h1 tabindex="-1">${esc(p.name)} <span class="muted">${esc(p.id)}</span></h1><p class="muted">${esc(p.description)}</p>
    ${p.valid ? "" : `<div class="diagnostics" role="alert">${p.diagnostics.map((d) => esc(d.location + ": " + d.message)).join("\n")}</div>`}
    <div class="grid2"><section aria-labelledby="run-heading"><h2 id="run-heading">Run</h2>
      <form class="params" id="params" novalidate>
        ${detail.parameters.map((parameter) => field(parameter, parameter.defaultValue)).join("") || '<p class="muted wide">no parameters</p>'}
        <fieldset class="wide"><legend>Which steps</legend><div class="choices">
          <label for="run-mode">run</label><select id="run-mode" name="mode" aria-describedby="run-mode-hint"><option value="">the whole pipeline</option>
            ${detail.modes.map((m) => `<option value="${esc(m.name)}">mode ${esc(m.name)}</option>`).join("")}</select>
          <div class="hint" id="run-mode-hint">${detail.modes.length ? detail.modes.map((m) => `<b>${esc(m.name)}</b>: ${esc(m.description || m.members.join(", "))}`).join("; ") : "this pipeline has no modes"}</div>
          <label for="run-from">from</label><select id="run-from" name="from">${stepOptions("the first steps")}</select>
          <label for="run-to">to</label><select id="run-to" name="to">${stepOptions("the last steps")}</select>
          <label for="run-skip">skip</label><select id="run-skip" name="skip" multiple size="${Math.min(4, Math.max(2, detail.steps.length))}" aria-describedby="run-skip-hint">${detail.steps.map((s) => `<option>${esc(s.name)}</option>`).join("")}</select>
          <div class="hint" id="run-skip-hint">steps to leave out (Ctrl-click for several)</div>
        </div><div class="error" id="selection-error" role="alert" hidden></div></fieldset>
        <div class="wide toolbar"><button class="primary" type="submit">Run pipeline</button>
          <label><input type="checkbox" name="force" id="run-force"> run steps that are up to date</label>
          <label><input type="checkbox" name="continueOnError" id="run-continue"> continue on error</label></div>
        <div class="error wide" id="run-error" role="alert" hidden></div>
      </form></section>
    <section aria-labelledby="steps-heading"><h2 id="steps-heading">Steps</h2>${wrap(`<table id="steps"><tr><th>step</th><th>last state</th><th>tested</th><th>run</th></tr>
      ${detail.steps.map((s) => `<tr data-step="${esc(s.name)}"><td>${esc(s.name)}<div class="muted">${esc(s.description)}</div>
        ${s.pipeline ? `<div class="muted">runs pipeline <a href="#/pipelines/${enc(s.pipeline)}">${esc(s.pipeline)}</a></div>` : ""}</td>
        <td class="state">${lastState(s)}</td>
        <td><input type="checkbox" class="tested" ${s.status && s.status.tested ? "checked" : ""} aria-label="${esc(s.name)} tested"></td>
        <td class="actions"><button type="button" class="run-step" aria-label="Run step ${esc(s.name)} alone">Run alone</button>
          <button type="button" class="run-upstream" aria-label="Run step ${esc(s.name)} with its upstream steps">With upstream</button></td></tr>`).join("")}</table>`)}</section></div>
    <h2>Graph</h2><div class="scroll" id="graph">${graph(detail)}</div>
    <h2>Recent runs</h2><div id="recent"></div>
    <section aria-labelledby="history-heading"><h2 id="history-heading">History</h2>
      <p class="muted">The last runs by step, oldest on the left: a cell opens that step's log in that run.</p><div id="history"></div></section>
    <div class="grid2"><section id="triggers"></section><section>${backfillForm()}</section></div>`;
  const form = document.getElementById("params");
  form.addEventListener("submit", (event) => { event.preventDefault(); start(page, id, form, {}); });
  view.querySelectorAll("#steps tr[data-step]").forEach((row) => {
    const step = row.dataset.step;
    row.querySelector("button.run-step").addEventListener("click", () => start(page, id, form, { step }));
    row.querySelector("button.run-upstream").addEventListener("click", () => start(page, id, form, { step, withDeps: true }));
    row.querySelector("input.tested").addEventListener("change", (event) =>
      json(`${path}/steps/${enc(step)}/tested`, { method: "PUT", body: JSON.stringify({ tested: event.target.checked }) }).catch((error) => page.fail(error)));
  });
  wireBackfill(page, id);

  const triggers = document.getElementById("triggers");
  triggers.addEventListener("click", async (event) => {
    if (!event.target.closest("#pause")) return;
    try {
      await json(`${path}/paused`, { method: "PUT", body: JSON.stringify({ paused: !detail.summary.paused }) });
      await refresh();
    } catch (error) { page.fail(error); }
  });
  const renderLive = async () => {
    patch(triggers, triggersSection(detail.summary));
    patch(document.getElementById("graph"), graph(detail));
    view.querySelectorAll("#steps tr[data-step]").forEach((row) => {
      const step = detail.steps.find((s) => s.name === row.dataset.step);
      if (!step) return;
      row.querySelector("td.state").innerHTML = lastState(step);
      const box = row.querySelector("input.tested");
      if (document.activeElement !== box) box.checked = Boolean(step.status && step.status.tested);
    });
    const runs = await page.json(`/api/runs?limit=10&pipeline=${enc(id)}`);
    patch(document.getElementById("recent"), runsTable(runs) +
      (runs.total > runs.length ? `<p><a href="#/runs?pipeline=${enc(id)}">All ${runs.total} runs of ${esc(id)}</a></p>` : ""));
  };
  const refresh = async () => { detail = await page.json(path); await renderLive(); };
  // Each run's steps are read for it: less often than the rest.
  const history = async () => patch(document.getElementById("history"), historyGrid(await page.json(`${path}/history?runs=25`)));
  const refreshHistory = page.throttle(3000, history);
  await renderLive();
  await history();
  // The history changes when a run starts or ends (or the stream was down); a step's event does not move it much.
  const refreshNow = page.throttle(700, refresh);
  page.live({ after: NOW }, (event) => {
    if (!event || ["run_started", "run_finished", "run_resumed", "run_interrupted"].includes(event.kind)) refreshHistory();
    refreshNow();
  });
}

/// A parameter's field: its label, the input, what it means and accepts (shown, not a tooltip), and a slot for
/// the server's error, which the input names as its description.
function field(parameter, value) {
  const name = esc(parameter.name), key = "param-" + slug(parameter.name), text = esc(value == null ? "" : value);
  const hints = [parameter.description];
  const kind = { int: "a whole number", number: "a number", date: "a date" }[parameter.type];
  const date = parameter.type === "date";
  if (parameter.type === "choice") hints.push("one of: " + parameter.choices.join(", "));
  else if (parameter.minimum != null && parameter.maximum != null) hints.push(`${kind} from ${parameter.minimum} to ${parameter.maximum}`);
  else if (parameter.minimum != null) hints.push(`${kind} ${date ? "on or after" : "of at least"} ${parameter.minimum}`);
  else if (parameter.maximum != null) hints.push(`${kind} ${date ? "on or before" : "of at most"} ${parameter.maximum}`);
  else if (kind) hints.push(kind);
  if (parameter.required) hints.push("required");
  const hint = hints.filter(Boolean).map(esc).join(" · ");
  const common = `id="${key}" name="${name}" aria-describedby="${key}-hint ${key}-error"${parameter.required ? " required" : ""}`;
  let input;
  if (parameter.type === "bool") input = `<input type="checkbox" ${common} ${String(value) === "true" ? "checked" : ""}>`;
  else if (parameter.type === "choice") input = `<select ${common}>${parameter.choices.map((c) => `<option ${c === value ? "selected" : ""}>${esc(c)}</option>`).join("")}</select>`;
  else if (parameter.type === "date") input = `<input type="date" ${common} value="${text}">`;
  else if (parameter.type === "int" || parameter.type === "number") input = `<input type="number" step="${parameter.type === "int" ? 1 : "any"}" ${common} value="${text}">`;
  else input = `<input type="text" ${common} value="${text}">`;
  return `<label for="${key}">${name}${parameter.required ? " *" : ""}</label><div class="field">${input}
    <div class="hint" id="${key}-hint">${hint}</div><div class="error" id="${key}-error" hidden></div></div>`;
}

/// The form's parameter values (an empty field is left out: the pipeline's default applies), or, for fields whose
/// text the browser could not read as their type ("5-" in a number field, which it reports as empty), the errors.
function parameterValues(form, { keepEmpty = false } = {}) {
  const params = {}, fields = {};
  form.querySelectorAll("[id^='param-']").forEach((input) => {
    if (input.validity && input.validity.badInput) fields["params." + input.name] = input.type === "number" ? "Give a number." : "Give a date.";
    else if (input.type === "checkbox") params[input.name] = input.checked;
    else if (input.value !== "" || keepEmpty) params[input.name] = input.value;
  });
  return { params, fields };
}

/// Shows a refused request's messages beside their fields; true if any had a field to go to.
function showFieldErrors(form, error, fallback) {
  form.querySelectorAll(".error").forEach((slot) => { slot.hidden = true; slot.textContent = ""; });
  form.querySelectorAll("[aria-invalid]").forEach((input) => input.removeAttribute("aria-invalid"));
  if (!error) return;
  let first = null, shown = false;
  for (const [key, message] of Object.entries((error.body && error.body.fields) || {})) {
    const name = key.replace(/^params\./, "");
    const input = form.querySelector(`[id="param-${slug(name)}"]`) || form.querySelector(`[name="${CSS.escape(name)}"]`);
    const slot = input ? document.getElementById((input.getAttribute("aria-describedby") || "").split(" ").pop())
      : form.querySelector(key === "selection" ? "#selection-error" : "#nothing");
    if (!slot) continue;
    slot.textContent = message;
    slot.hidden = false;
    shown = true;
    if (input) { input.setAttribute("aria-invalid", "true"); first = first || input; }
  }
  if (first) first.focus();
  if (shown) return;
  fallback.textContent = error.message;
  fallback.hidden = false;
}

async function start(page, id, form, { step, withDeps }) {
  const { params, fields } = parameterValues(form);
  if (Object.keys(fields).length) return showFieldErrors(form, { body: { fields } }, document.getElementById("run-error"));
  const body = { params, force: form.querySelector("#run-force").checked, continueOnError: form.querySelector("#run-continue").checked };
  if (step) body.withDeps = Boolean(withDeps);
  else {
    const mode = form.querySelector("#run-mode").value, from = form.querySelector("#run-from").value, to = form.querySelector("#run-to").value;
    const skip = [...form.querySelector("#run-skip").selectedOptions].map((option) => option.value);
    if (mode) body.mode = mode;
    if (from) body.from = [from];
    if (to) body.to = [to];
    if (skip.length) body.skip = skip;
  }
  const path = step ? `/api/pipelines/${enc(id)}/steps/${enc(step)}/run` : `/api/pipelines/${enc(id)}/runs`;
  showFieldErrors(form, null);
  try {
    const run = await json(path, { method: "POST", body: JSON.stringify(body) });
    if (page.alive) location.hash = "#/runs/" + run.id;
  } catch (error) {
    if (error instanceof Offline) return page.fail(error);
    showFieldErrors(form, error, document.getElementById("run-error"));
  }
}

// ---- schedules, watches, backfills --------------------------------------------------------------------------
function triggersSection(p) {
  const rows = p.triggers.map((t) => `<tr data-trigger="${esc(t.name)}"><td>${esc(t.name)}</td>
    <td>${t.kind === "schedule" ? `cron <code>${esc(t.cron)}</code> in ${esc(t.timezone)}, catch_up ${esc(t.catchUp)}`
      : `files <code>${esc((t.patterns || []).join(", "))}</code> in <code>${esc(t.folder)}</code>, after ${t.debounceSeconds}s quiet`}</td>
    <td class="next" title="${t.nextTime ? "your time: " + esc(when(t.nextTime)) : ""}">${p.paused ? "paused" : t.kind === "schedule" ? esc(t.nextTime ? when(t.nextTime, t.timezone) : "never") : "on change"}</td>
    <td>${t.lastRunID ? `<a href="#/runs/${esc(t.lastRunID)}">${esc(t.lastRunID)}</a>` : ""}${t.lastError ? `<div class="error">${esc(t.lastError)}</div>` : ""}</td></tr>`);
  return `<h2>Triggers</h2>${p.triggers.length ? wrap(`<table><tr><th>trigger</th><th>when</th><th>next</th><th>last run</th></tr>${rows.join("")}</table>`)
    + `<p><button type="button" id="pause">${p.paused ? "Resume schedules" : "Pause schedules"}</button></p>` : '<p class="muted">none: it runs when started</p>'}`;
}

function backfillForm() {
  return `<h2>Backfill</h2><form class="params" id="backfill" novalidate>
    <label for="bf-from">first day</label><div class="field"><input type="date" id="bf-from" name="from" required aria-describedby="bf-from-error">
      <div class="error" id="bf-from-error" hidden></div></div>
    <label for="bf-to">last day</label><div class="field"><input type="date" id="bf-to" name="to" required aria-describedby="bf-to-error">
      <div class="error" id="bf-to-error" hidden></div></div>
    <label for="bf-step">one run per</label><select id="bf-step" name="step"><option>daily</option><option>weekly</option><option>monthly</option></select>
    <label for="bf-max">at once</label><div class="field"><input type="number" id="bf-max" name="maxActive" min="1" value="1" aria-describedby="bf-max-hint bf-max-error">
      <div class="hint" id="bf-max-hint">how many of its runs may run at the same time</div><div class="error" id="bf-max-error" hidden></div></div>
    <div class="wide toolbar"><button type="submit">Backfill</button></div>
    <div class="error wide" id="backfill-error" role="alert" hidden></div>
    <div class="wide" id="backfill-result" role="status"></div></form>`;
}

function wireBackfill(page, id) {
  const form = document.getElementById("backfill");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = Object.fromEntries(new FormData(form));
    body.maxActive = Number(body.maxActive);
    const result = document.getElementById("backfill-result");
    result.textContent = "";
    // Said in the form's words before asking the server, which says the same of anything else.
    const fields = {};
    if (!body.from) fields.from = "Choose the first day.";
    if (!body.to) fields.to = "Choose the last day.";
    if (body.from && body.to && body.from > body.to) fields.from = `The first day (${body.from}) is after the last (${body.to}).`;
    if (!Number.isInteger(body.maxActive) || body.maxActive < 1) fields.maxActive = "Give a whole number, 1 or more.";
    if (Object.keys(fields).length) return showFieldErrors(form, { body: { fields } }, document.getElementById("backfill-error"));
    showFieldErrors(form, null);
    try {
      const started = await json(`/api/pipelines/${enc(id)}/backfill`, { method: "POST", body: JSON.stringify(body) });
      result.textContent = `${started.runs.length} runs queued, ${started.skipped.length} intervals already done`
        + (started.refused.length ? `, ${started.refused.length} refused: ${started.refused[0].reason}` : "");
    } catch (error) {
      if (error instanceof Offline) return page.fail(error);
      showFieldErrors(form, error, document.getElementById("backfill-error"));
    }
  });
}

// ---- the runs -----------------------------------------------------------------------------------------------
function runsTable(runs) {
  if (!runs.length) return '<p class="muted">No runs yet.</p>';
  return wrap(`<table><tr><th>run</th><th>pipeline</th><th>status</th><th>trigger</th><th>started</th><th>duration</th></tr>
    ${runs.map((r) => `<tr data-run="${esc(r.id)}"><td><a href="#/runs/${esc(r.id)}">${esc(r.id)}</a></td>
      <td><a href="#/pipelines/${enc(r.pipeline)}">${esc(r.pipeline)}</a></td>
      <td>${badge(r.status)}</td><td>${triggerText(r.trigger)}</td><td>${when(r.createdAt)}</td><td>${duration(seconds(r.createdAt, r.finishedAt))}</td></tr>`).join("")}</table>`);
}

async function runsView(page, query) {
  const pipelines = await page.json("/api/pipelines");
  const filter = { pipeline: query.get("pipeline") || "", status: query.get("status") || "", trigger: query.get("trigger") || "" };
  let offset = Math.max(0, (Number(query.get("page")) || 1) - 1) * PAGE_SIZE;
  const select = (name, label, values, text) => `<label for="filter-${name}">${label}</label><select id="filter-${name}" name="${name}">
    <option value="">any</option>${values.map((v) => `<option value="${esc(v)}" ${v === filter[name] ? "selected" : ""}>${esc(text ? text(v) : v)}</option>`).join("")}</select>`;
  view.innerHTML = `<h1 tabindex="-1">Runs</h1>
    <form class="filters" id="filters">${select("pipeline", "pipeline", pipelines.map((p) => p.id))}${select("status", "status", RUN_STATUSES, words)}
      ${select("trigger", "started by", TRIGGERS)}</form>
    <div id="runs"></div>
    <nav class="pager" aria-label="pages of runs"><button type="button" id="newer">Newer</button> <span id="range" role="status"></span> <button type="button" id="older">Older</button></nav>`;
  let drawing = 0;
  const goTo = (first) => { offset = first; return render(); };
  const render = async () => {
    const parameters = new URLSearchParams(Object.entries(filter).filter(([, v]) => v)), asked = offset, ticket = ++drawing;
    const runs = await page.json(`/api/runs?limit=${PAGE_SIZE}&offset=${asked}&${parameters}`);
    if (ticket !== drawing) return;  // other filters or another page were asked for meanwhile, and are drawn by their own render
    // An address past the last page (runs removed since, a hand-made page number) shows the last page.
    if (!runs.length && asked && runs.total) return goTo(Math.floor((runs.total - 1) / PAGE_SIZE) * PAGE_SIZE);
    patch(document.getElementById("runs"), runsTable(runs));
    document.getElementById("range").textContent = runs.total ? `${asked + 1}–${asked + runs.length} of ${runs.total}` : "no runs match";
    document.getElementById("newer").disabled = asked === 0;
    document.getElementById("older").disabled = asked + runs.length >= runs.total;
    // A button that just became disabled hands the focus to the other one.
    const stuck = document.activeElement;
    if (stuck && stuck.disabled) document.getElementById(stuck.id === "older" ? "newer" : "older").focus();
    // The address names the filters and the page, without drawing the view again.
    if (asked) parameters.set("page", String(asked / PAGE_SIZE + 1));
    history.replaceState(null, "", "#/runs" + (parameters.toString() ? "?" + parameters : ""));
  };
  document.getElementById("filters").addEventListener("change", (event) => {
    filter[event.target.name] = event.target.value;
    goTo(0).catch((error) => page.fail(error));
  });
  document.getElementById("newer").addEventListener("click", () => goTo(Math.max(0, offset - PAGE_SIZE)).catch((error) => page.fail(error)));
  document.getElementById("older").addEventListener("click", () => goTo(offset + PAGE_SIZE).catch((error) => page.fail(error)));
  await render();
  page.live({ after: NOW }, page.throttle(1000, render));
}

// A step's last state; a fan-out's, its instances counted by theirs.
function lastState(step) {
  return step.instances ? `${esc(step.instances.summary)} <span class="muted">(${step.instances.total} instances)</span>` : badge(step.status && step.status.lastState);
}

// Graph: steps in columns by depth (longest path from a step without upstream), arrows for dependencies; each
// node says its state in words as well as in colour.
function graph(detail) {
  const depth = {}, names = detail.steps.map((s) => s.name);
  const upstream = Object.fromEntries(names.map((n) => [n, []]));
  detail.edges.forEach(([from, to]) => upstream[to].push(from));
  const level = (name, seen = new Set()) => {
    if (depth[name] !== undefined) return depth[name];
    if (seen.has(name)) return 0;
    seen.add(name);
    return (depth[name] = upstream[name].length ? 1 + Math.max(...upstream[name].map((u) => level(u, seen))) : 0);
  };
  names.forEach((n) => level(n));
  const columns = {}, position = {};
  names.forEach((n) => { (columns[depth[n]] = columns[depth[n]] || []).push(n); });
  const W = 150, H = 42, GX = 60, GY = 14;
  Object.entries(columns).forEach(([column, members]) => members.forEach((n, row) => { position[n] = { x: 10 + column * (W + GX), y: 10 + row * (H + GY) }; }));
  const width = 20 + (Math.max(0, ...Object.keys(columns).map(Number)) + 1) * (W + GX) - GX;
  const height = 20 + Math.max(1, ...Object.values(columns).map((m) => m.length)) * (H + GY) - GY;
  // A fan-out is one node that counts its instances, coloured by the worst of their latest states.
  const worst = (counts) => ["failed", "timed_out", "interrupted", "cancelled", "running", "skipped", "succeeded", "up_to_date"].find((k) => counts[k]) || "none";
  const state = Object.fromEntries(detail.steps.map((s) => [s.name, s.instances ? worst(s.instances.counts) : (s.status && s.status.lastState) || "none"]));
  const said = Object.fromEntries(detail.steps.map((s) => [s.name, s.instances ? `×${s.instances.total}: ${s.instances.summary}` : state[s.name] === "none" ? "not run yet" : words(state[s.name])]));
  return `<svg class="graph" role="img" aria-label="the steps and their dependencies" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
    <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#9ca3af"/></marker></defs>
    ${detail.edges.map(([from, to]) => { const a = position[from], b = position[to];
      return `<path class="edge" d="M${a.x + W},${a.y + H / 2} C${a.x + W + GX / 2},${a.y + H / 2} ${b.x - GX / 2},${b.y + H / 2} ${b.x},${b.y + H / 2}"/>`; }).join("")}
    ${names.map((n) => `<g class="node" data-step="${esc(n)}"><rect class="${esc(state[n])}" x="${position[n].x}" y="${position[n].y}" width="${W}" height="${H}"/>
      <text x="${position[n].x + 10}" y="${position[n].y + 18}">${esc(n.length > 20 ? n.slice(0, 19) + "…" : n)}</text>
      <text class="state" x="${position[n].x + 10}" y="${position[n].y + 34}">${esc(said[n].length > 24 ? said[n].slice(0, 23) + "…" : said[n])}</text><title>${esc(n)}: ${esc(said[n])}</title></g>`).join("")}
  </svg>`;
}

// ---- routing ------------------------------------------------------------------------------------------------
/// Draws the view the address names. `keepFocus`: a redraw of the same place (a retry after the server was away),
/// not a navigation, so focus stays where it is.
async function route(options = {}) {
  if (page) page.close();
  const [path, search] = location.hash.replace(/^#\/?/, "").split("?");
  const parts = path.split("/").map((part) => { try { return decodeURIComponent(part); } catch (error) { return part; } });
  const name = parts[0] === "pipelines" && parts[1] ? "pipeline" : parts[0] === "runs" ? (parts[1] ? "run" : "runs") : "pipelines";
  const current = page = new Page(name);
  view.dataset.page = name;
  document.querySelectorAll("header nav a").forEach((link) => {
    const active = (link.getAttribute("href") === "#/runs") === (name === "runs" || name === "run");
    if (active) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  });
  try {
    if (name === "pipeline") await pipelineView(current, parts[1]);
    else if (name === "run") await runView(current, parts[1], parts[2]);
    else if (name === "runs") await runsView(current, new URLSearchParams(search || ""));
    else await pipelinesView(current);
    offlineDelay = 1000;
    view.querySelectorAll(".offline").forEach((box) => box.remove());
    const heading = view.querySelector("h1");
    if (!options.keepFocus && !options.initial && heading) heading.focus();
  } catch (error) {
    if (error instanceof Stale || !current.alive) return;
    // The view left is not left on screen (its buttons would still act): only what went wrong is.
    view.innerHTML = "";
    current.fail(error);
  }
}

window.addEventListener("hashchange", () => route());
route({ initial: true });

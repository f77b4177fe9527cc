"use strict";
const view = document.getElementById("view");
const connection = document.getElementById("connection");
let cleanup = [];

// ---- API --------------------------------------------------------------------------------------------
function token() { return localStorage.getItem("sluiceToken") || ""; }
async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (token()) headers["Authorization"] = "Bearer " + token();
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.status === 401) { askToken(); throw new Error("unauthorized"); }
  return response;
}
async function json(path, options) {
  const response = await api(path, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) { const error = new Error((body.error && body.error.message) || response.statusText); error.body = body; error.status = response.status; throw error; }
  return body;
}
function askToken() {
  const value = prompt("This server needs its token (SLUICE_TOKEN):");
  if (value) { localStorage.setItem("sluiceToken", value); route(); }
}
// Live events: one WebSocket per view, reconnecting with the last sequence number it saw.
function follow(query, onEvent) {
  let socket, last = 0, closed = false;
  const open = () => {
    const url = new URL("/api/events", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    if (query.run) url.searchParams.set("run", query.run);
    url.searchParams.set("after", String(last || query.after || 0));
    if (token()) url.searchParams.set("access_token", token());
    socket = new WebSocket(url);
    socket.onopen = () => { connection.className = "live"; };
    socket.onmessage = (message) => { const event = JSON.parse(message.data); last = event.seq; onEvent(event); };
    socket.onclose = () => { connection.className = "down"; if (!closed) setTimeout(open, 1000); };
  };
  open();
  cleanup.push(() => { closed = true; socket.close(); });
}
function throttle(fn, ms) {
  let timer = null;
  return () => { if (!timer) timer = setTimeout(() => { timer = null; fn(); }, ms); };
}

// ---- helpers -----------------------------------------------------------------------------------------
const esc = (text) => String(text == null ? "" : text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const badge = (state) => state ? `<span class="badge ${esc(state)}">${esc(state.replace(/_/g, " "))}</span>` : "";
function duration(seconds) {
  if (seconds == null) return "";
  if (seconds < 1) return Math.round(seconds * 1000) + "ms";
  if (seconds < 60) return seconds.toFixed(1) + "s";
  return Math.floor(seconds / 60) + "m" + Math.round(seconds % 60) + "s";
}
const when = (date) => date ? new Date(date).toLocaleString() : "";
const seconds = (from, to) => (from && to) ? (new Date(to) - new Date(from)) / 1000 : null;

// ---- views -------------------------------------------------------------------------------------------
async function pipelinesView() {
  const pipelines = await json("/api/pipelines");
  view.innerHTML = `<h1>Pipelines</h1><p class="muted">${pipelines.length} in the workspace; files are picked up as they change.</p>
    <table><tr><th>pipeline</th><th>description</th><th>last run</th><th>next run</th><th>steps completed</th><th>tested</th></tr>
    ${pipelines.map((p) => `<tr data-pipeline="${esc(p.id)}"><td><a href="#/pipelines/${encodeURIComponent(p.id)}">${esc(p.name)}</a>
      ${p.valid ? "" : `<div class="diagnostics">${p.diagnostics.map((d) => esc(d.location + ": " + d.message)).join("\n")}</div>`}</td>
      <td>${esc(p.description)}</td>
      <td>${p.lastRun ? `${badge(p.lastRun.status)} <a href="#/runs/${esc(p.lastRun.id)}">${esc(p.lastRun.id)}</a>` : '<span class="muted">never</span>'}</td>
      <td class="next">${nextRun(p)}</td>
      <td>${p.stepsCompleted} / ${p.steps}</td><td>${p.stepsTested} / ${p.steps}</td></tr>`).join("")}</table>`;
  follow({ after: 0 }, throttle(() => pipelinesView().catch(show), 500));
}

async function pipelineView(id) {
  const detail = await json("/api/pipelines/" + encodeURIComponent(id));
  const p = detail.summary;
  view.innerHTML = `<h1>${esc(p.name)} <span class="muted">${esc(p.id)}</span></h1><p class="muted">${esc(p.description)}</p>
    ${triggersSection(p)}
    <h2>Graph</h2>${graph(detail)}
    <div class="grid2"><div><h2>Run</h2><form class="params" id="params">${detail.parameters.map(field).join("") || '<span class="muted">no parameters</span><span></span>'}
      <span></span><span class="toolbar"><button class="primary" type="submit">Run pipeline</button>
      <label><input type="checkbox" name="__force"> force</label></span></form></div>
    <div><h2>Steps</h2><table><tr><th>step</th><th>last state</th><th>tested</th><th></th></tr>
    ${detail.steps.map((s) => `<tr data-step="${esc(s.name)}"><td>${esc(s.name)}<div class="muted">${esc(s.description)}</div></td>
      <td>${badge(s.status && s.status.lastState)}</td>
      <td><input type="checkbox" class="tested" ${s.status && s.status.tested ? "checked" : ""} title="mark tested"></td>
      <td><button class="run-step">Run step</button></td></tr>`).join("")}</table></div></div>
    <h2>Recent runs</h2><div id="recent"></div>`;
  const form = document.getElementById("params");
  form.addEventListener("submit", async (event) => { event.preventDefault(); await start(id, form, null); });
  view.querySelectorAll("button.run-step").forEach((button) => button.addEventListener("click", () =>
    start(id, form, button.closest("tr").dataset.step)));
  view.querySelectorAll("input.tested").forEach((box) => box.addEventListener("change", () =>
    json(`/api/pipelines/${encodeURIComponent(id)}/steps/${encodeURIComponent(box.closest("tr").dataset.step)}/tested`,
         { method: "PUT", body: JSON.stringify({ tested: box.checked }) }).catch(show)));
  wireTriggers(id);
  await recentRuns(id);
}

// ---- schedules, watches, backfills --------------------------------------------------------------------
function nextRun(p) {
  if (!p.triggers || !p.triggers.length) return '<span class="muted">by hand</span>';
  if (p.paused) return '<span class="badge cancelled">paused</span>';
  const times = p.triggers.filter((t) => t.nextTime).map((t) => t.nextTime).sort((a, b) => new Date(a) - new Date(b));
  const watching = p.triggers.some((t) => t.kind === "watch");
  return [times.length ? `<span title="${esc(times[0])}">${esc(when(times[0]))}</span>` : "", watching ? '<span class="muted">on new files</span>' : ""]
    .filter(Boolean).join("<br>");
}

function triggersSection(p) {
  const rows = p.triggers.map((t) => `<tr data-trigger="${esc(t.name)}"><td>${esc(t.name)}</td>
    <td>${t.kind === "schedule" ? `cron <code>${esc(t.cron)}</code> ${esc(t.timezone)}, catch_up ${esc(t.catchUp)}`
                                : `files <code>${esc((t.patterns || []).join(", "))}</code> in <code>${esc(t.folder)}</code>, after ${t.debounceSeconds}s quiet`}</td>
    <td class="next" title="${esc(t.nextTime || "")}">${p.paused ? "paused" : t.kind === "schedule" ? esc(t.nextTime ? when(t.nextTime) : "never") : "on change"}</td>
    <td>${t.lastRunID ? `<a href="#/runs/${esc(t.lastRunID)}">${esc(t.lastRunID)}</a>` : ""}${t.lastError ? `<div class="error">${esc(t.lastError)}</div>` : ""}</td></tr>`);
  return `<div class="grid2"><div><h2>Triggers</h2>${p.triggers.length ? `<table><tr><th>trigger</th><th>when</th><th>next</th><th>last run</th></tr>${rows.join("")}</table>
      <p><button id="pause">${p.paused ? "Resume schedules" : "Pause schedules"}</button></p>` : '<p class="muted">none: it runs when started</p>'}</div>
    <div><h2>Backfill</h2><form class="params" id="backfill">
      <label for="bf-from">from</label><input type="date" id="bf-from" name="from" required>
      <label for="bf-to">to</label><input type="date" id="bf-to" name="to" required>
      <label for="bf-step">one run per</label><select id="bf-step" name="step"><option>daily</option><option>weekly</option><option>monthly</option></select>
      <label for="bf-max">at once</label><input type="number" id="bf-max" name="maxActive" min="1" value="1">
      <span></span><span class="toolbar"><button type="submit">Backfill</button></span></form>
      <div id="backfill-result" class="muted"></div></div></div>`;
}

function wireTriggers(id) {
  const pause = document.getElementById("pause");
  if (pause) pause.addEventListener("click", async () => {
    const paused = pause.textContent.startsWith("Pause");
    await json(`/api/pipelines/${encodeURIComponent(id)}/paused`, { method: "PUT", body: JSON.stringify({ paused }) }).catch(show);
    await pipelineView(id);
  });
  const form = document.getElementById("backfill");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = Object.fromEntries(new FormData(form));
    body.maxActive = Number(body.maxActive);
    const result = document.getElementById("backfill-result");
    try {
      const started = await json(`/api/pipelines/${encodeURIComponent(id)}/backfill`, { method: "POST", body: JSON.stringify(body) });
      result.textContent = `${started.runs.length} runs queued, ${started.skipped.length} intervals already done`
        + (started.refused.length ? `, ${started.refused.length} refused: ${started.refused[0].reason}` : "");
      await recentRuns(id);
    } catch (error) {
      result.textContent = error.message;
    }
  });
}

function field(parameter) {
  const name = esc(parameter.name), value = esc(parameter.defaultValue || "");
  let input;
  if (parameter.type === "bool") input = `<input type="checkbox" name="${name}" ${parameter.defaultValue === "true" ? "checked" : ""}>`;
  else if (parameter.type === "choice") input = `<select name="${name}">${parameter.choices.map((c) => `<option ${c === parameter.defaultValue ? "selected" : ""}>${esc(c)}</option>`).join("")}</select>`;
  else if (parameter.type === "date") input = `<input type="date" name="${name}" value="${value}">`;
  else if (parameter.type === "int" || parameter.type === "number") input = `<input type="number" step="${parameter.type === "int" ? 1 : "any"}" name="${name}" value="${value}">`;
  else input = `<input type="text" name="${name}" value="${value}">`;
  return `<label for="${name}" title="${esc(parameter.description)}">${name}${parameter.required ? " *" : ""}</label>${input}<div class="error" data-error="${name}" hidden></div>`;
}

async function start(id, form, step) {
  const params = {};
  form.querySelectorAll("[name]").forEach((input) => {
    if (input.name === "__force") return;
    if (input.type === "checkbox") params[input.name] = input.checked;
    else if (input.value !== "") params[input.name] = input.value;
  });
  form.querySelectorAll(".error").forEach((e) => { e.hidden = true; });
  const body = { params, force: form.querySelector('[name="__force"]').checked };
  const path = step ? `/api/pipelines/${encodeURIComponent(id)}/steps/${encodeURIComponent(step)}/run` : `/api/pipelines/${encodeURIComponent(id)}/runs`;
  try {
    const run = await json(path, { method: "POST", body: JSON.stringify(body) });
    location.hash = "#/runs/" + run.id;
  } catch (error) {
    const fields = (error.body && error.body.fields) || {};
    let shown = false;
    for (const [key, message] of Object.entries(fields)) {
      const slot = form.querySelector(`[data-error="${CSS.escape(key.replace(/^params\./, ""))}"]`);
      if (slot) { slot.textContent = message; slot.hidden = false; shown = true; }
    }
    if (!shown) show(error);
  }
}

async function recentRuns(id) {
  const runs = await json("/api/runs?limit=10&pipeline=" + encodeURIComponent(id));
  document.getElementById("recent").innerHTML = runsTable(runs);
}

function runsTable(runs) {
  if (!runs.length) return '<p class="muted">No runs yet.</p>';
  return `<table><tr><th>run</th><th>pipeline</th><th>status</th><th>trigger</th><th>started</th><th>duration</th></tr>
    ${runs.map((r) => `<tr data-run="${esc(r.id)}"><td><a href="#/runs/${esc(r.id)}">${esc(r.id)}</a></td><td>${esc(r.pipeline)}</td>
      <td>${badge(r.status)}</td><td>${esc(r.trigger)}</td><td>${when(r.createdAt)}</td><td>${duration(seconds(r.createdAt, r.finishedAt))}</td></tr>`).join("")}</table>`;
}

async function runsView() {
  const render = async () => { view.innerHTML = `<h1>Runs</h1>${runsTable(await json("/api/runs?limit=100"))}`; };
  await render();
  follow({ after: 0 }, throttle(() => render().catch(show), 300));
}

// Graph: steps in columns by depth (longest path from a step without upstream), arrows for dependencies.
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
  const W = 150, H = 34, GX = 60, GY = 16;
  Object.entries(columns).forEach(([column, members]) => members.forEach((n, row) => { position[n] = { x: 10 + column * (W + GX), y: 10 + row * (H + GY) }; }));
  const width = 20 + (Math.max(0, ...Object.keys(columns).map(Number)) + 1) * (W + GX);
  const height = 20 + Math.max(1, ...Object.values(columns).map((m) => m.length)) * (H + GY);
  const state = Object.fromEntries(detail.steps.map((s) => [s.name, (s.status && s.status.lastState) || "none"]));
  return `<svg class="graph" viewBox="0 0 ${width} ${height}" style="max-height:${height}px">
    <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#9ca3af"/></marker></defs>
    ${detail.edges.map(([from, to]) => { const a = position[from], b = position[to];
      return `<path class="edge" d="M${a.x + W},${a.y + H / 2} C${a.x + W + GX / 2},${a.y + H / 2} ${b.x - GX / 2},${b.y + H / 2} ${b.x},${b.y + H / 2}"/>`; }).join("")}
    ${names.map((n) => `<g class="node" data-step="${esc(n)}"><rect class="${esc(state[n])}" x="${position[n].x}" y="${position[n].y}" width="${W}" height="${H}"/>
      <text x="${position[n].x + 10}" y="${position[n].y + 21}">${esc(n.length > 20 ? n.slice(0, 19) + "…" : n)}</text><title>${esc(n)}: ${esc(state[n])}</title></g>`).join("")}
  </svg>`;
}

// #/runs/ID shows the log of the step that failed, if one did; #/runs/ID/STEP shows STEP's.
async function runView(id, step) {
  let selected = step || null, logOffset = 0, detail = null;
  const history = {};
  view.innerHTML = `<div id="run"></div><h2>Log <span class="muted" id="log-step"></span></h2><pre class="log" id="log">Choose a step.</pre>`;
  const log = document.getElementById("log");
  const render = async () => {
    detail = await json("/api/runs/" + encodeURIComponent(id));
    const r = detail.run, running = r.status === "running";
    detail.steps.forEach((s) => { const h = history[s.step] = history[s.step] || []; if (h[h.length - 1] !== s.state) h.push(s.state); });
    const outputs = running ? [] : await json(`/api/runs/${encodeURIComponent(id)}/outputs`).catch(() => []);
    document.getElementById("run").innerHTML = `<h1>Run ${esc(r.id)} <span class="muted">${esc(r.pipeline)}</span> ${badge(r.status)}</h1>
      <p class="muted">started ${when(r.createdAt)} · ${esc(r.trigger)} · ${duration(seconds(r.createdAt, r.finishedAt || (running ? new Date() : null)))}
      ${Object.entries(r.parameters).map(([k, v]) => ` · ${esc(k)}=${esc(v)}`).join("")}</p>
      <div class="toolbar"><button class="danger" id="cancel" ${running ? "" : "disabled"}>Cancel</button>
        <button id="resume" ${running || r.status === "success" ? "disabled" : ""} title="Run the steps that did not succeed, in this run">Resume</button>
        <button id="retry" ${running || r.status === "success" ? "disabled" : ""} title="A new run of the steps that did not succeed">Retry failed steps</button>
        ${running ? "" : `<a href="/api/runs/${encodeURIComponent(id)}/report" target="_blank">Report</a>
        · Export <a href="/api/runs/${encodeURIComponent(id)}/export?format=json">JSON</a> <a href="/api/runs/${encodeURIComponent(id)}/export?format=csv">CSV</a>
        <a href="/api/runs/${encodeURIComponent(id)}/export?format=xlsx">XLSX</a>`}
        · <a href="#/pipelines/${encodeURIComponent(r.pipeline)}">pipeline</a></div>
      <table id="steps"><tr><th>step</th><th>state</th><th>attempts</th><th>exit</th><th>duration</th><th>peak memory</th><th>note</th></tr>
      ${detail.steps.map((s) => `<tr data-step="${esc(s.step)}" data-state="${esc(s.state)}" data-history="${esc(history[s.step].join(" "))}">
        <td><a href="#" class="show-log">${esc(s.step)}</a></td><td>${badge(s.state)}${s.recovered ? " recovered" : ""}</td><td>${s.attempts}</td>
        <td>${s.exitCode == null ? "" : s.exitCode}</td><td>${duration(s.duration)}</td><td>${s.peakMemoryKB ? Math.round(s.peakMemoryKB / 1024) + " MiB" : ""}</td>
        <td>${esc(s.error || s.reason || "")}</td></tr>`).join("")}</table>
      <h2>Timeline</h2>${gantt(detail)}
      ${detail.recoveryActions.length ? `<h2>Recovery actions</h2><table>${detail.recoveryActions.map((a) => `<tr><td>${esc(a.step)}</td><td>${esc(a.action.kind)}</td><td>${badge(a.action.status === "SUCCESS" ? "succeeded" : "failed")}</td><td>${esc(a.action.message)}</td></tr>`).join("")}</table>` : ""}
      <h2>Outputs</h2>${outputs.length ? `<ul>${outputs.map((o) => { const url = `/api/runs/${encodeURIComponent(id)}/outputs/${o.path.split("/").map(encodeURIComponent).join("/")}`;
        return `<li><a href="${url}">${esc(o.path)}</a> <span class="muted">${o.size} bytes</span> · <a href="${url}?view=true" target="_blank">view</a></li>`; }).join("")}</ul>` : `<p class="muted">${running ? "listed when the run ends" : "none"}</p>`}`;
    document.getElementById("cancel").onclick = () => json(`/api/runs/${encodeURIComponent(id)}/cancel`, { method: "POST" }).catch(show);
    document.getElementById("resume").onclick = () => json(`/api/runs/${encodeURIComponent(id)}/resume`, { method: "POST" }).catch(show);
    document.getElementById("retry").onclick = async () => { const next = await json(`/api/runs/${encodeURIComponent(id)}/retry`, { method: "POST" }).catch(show); if (next) location.hash = "#/runs/" + next.id; };
    view.querySelectorAll("a.show-log").forEach((a) => a.addEventListener("click", (event) => { event.preventDefault(); select(a.textContent); }));
  };
  const select = (name) => {
    selected = name; logOffset = 0; log.textContent = ""; document.getElementById("log-step").textContent = name;
    window.history.replaceState(null, "", `#/runs/${encodeURIComponent(id)}/${encodeURIComponent(name)}`);
    readLog();
  };
  const readLog = async () => {
    if (!selected) return;
    const response = await api(`/api/runs/${encodeURIComponent(id)}/steps/${encodeURIComponent(selected)}/log?offset=${logOffset}`);
    const text = await response.text();
    logOffset += new TextEncoder().encode(text).length;
    log.textContent += text;
    if (!log.textContent) log.textContent = "(no output yet)";
    log.scrollTop = log.scrollHeight;
  };
  await render();
  const failed = detail.steps.find((s) => s.state === "failed" || s.state === "timed_out");
  if (selected || failed) select(selected || failed.step);
  const refresh = throttle(() => { render().catch(show); readLog().catch(() => {}); }, 150);
  follow({ run: id, after: 0 }, refresh);
  const ticker = setInterval(() => { if (detail && detail.run.status === "running") readLog().catch(() => {}); }, 1000);
  cleanup.push(() => clearInterval(ticker));
}

function gantt(detail) {
  const attempts = detail.attempts;
  if (!attempts.length) return '<p class="muted">No attempt yet.</p>';
  const start = Math.min(...attempts.map((a) => new Date(a.startedAt)));
  const end = Math.max(...attempts.map((a) => a.finishedAt ? new Date(a.finishedAt) : Date.now()));
  const span = Math.max(end - start, 1), names = [...new Set(attempts.map((a) => a.step))], L = 160, W = 900, R = 22;
  return `<svg class="gantt" viewBox="0 0 ${W} ${names.length * R + 20}">${names.map((n, i) => `<text x="4" y="${i * R + 15}">${esc(n)}</text>
    ${attempts.filter((a) => a.step === n).map((a) => { const x0 = L + (new Date(a.startedAt) - start) / span * (W - L - 10);
      const x1 = L + ((a.finishedAt ? new Date(a.finishedAt) : Date.now()) - start) / span * (W - L - 10);
      return `<rect class="bar ${esc(a.state)}" x="${x0}" y="${i * R + 3}" width="${Math.max(2, x1 - x0)}" height="16"><title>${esc(n)} attempt ${a.attempt}: ${esc(a.state)}</title></rect>`; }).join("")}`).join("")}
    <text x="${L}" y="${names.length * R + 16}" class="muted">0s</text><text x="${W - 70}" y="${names.length * R + 16}">${duration(span / 1000)}</text></svg>`;
}

function show(error) {
  if (error && error.message === "unauthorized") return;
  const notice = document.createElement("p");
  notice.className = "notice";
  notice.textContent = String(error && error.message || error);
  view.prepend(notice);
}

async function route() {
  cleanup.forEach((fn) => fn()); cleanup = [];
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  try {
    if (parts[0] === "pipelines" && parts[1]) await pipelineView(parts[1]);
    else if (parts[0] === "runs" && parts[1]) await runView(parts[1], parts[2]);
    else if (parts[0] === "runs") await runsView();
    else await pipelinesView();
  } catch (error) { view.innerHTML = ""; show(error); }
}
window.addEventListener("hashchange", route);
route();

// The wtasim serve dashboard: plain JavaScript on the documented API (docs/serve.md), nothing fetched from
// elsewhere. The token is kept in this browser's sessionStorage; "#token=...&submit=run&generate=1" in the
// address fills it in and starts an example run and a generation (what the browser test does).
"use strict";

const examples = {
  run: {
    model: {checkpoint: "models/wd-kjv-small.h5"},
    input: {text: "In the beginning God created", generate: 12},
    backend: "cpu",
    energy: {profile: "horowitz45-fp32"},
  },
  corpus: {
    model: {checkpoint: "models/wd-kjv-small.h5"},
    input: {corpus: "kjv", split: "valid", sequences: 8, seq_len: 32},
    backend: "cpu",
  },
  train: {
    model: {d_model: 32, heads: 2, d_ff: 64, layers: 1, T: 2, max_len: 32, spiking: true, causal: true,
            neuron: "lif", attention: {kind: "wta", k: 1}},
    data: {corpus: "kjv", max_documents: 120},
    tokenizer: {vocab_size: 300},
    train: {objective: "clm", steps: 12, batch: 4, seq_len: 24, lr: 0.003, warmup: 2, log_every: 2,
            eval_every: 6, eval_batches: 2, checkpoint_every: 3, seed: 1},
  },
};

const $ = (id) => document.getElementById(id);
const hash = new URLSearchParams(location.hash.slice(1));
if (hash.get("token")) sessionStorage.setItem("wtasim-token", hash.get("token"));
let token = sessionStorage.getItem("wtasim-token") || "";
let selected = hash.get("open") || "";
let shownReportFor = "";

async function api(path, options = {}) {
  const headers = Object.assign({Authorization: "Bearer " + token}, options.headers || {});
  const res = await fetch(path, Object.assign({}, options, {headers}));
  if (!res.ok) {
    let message = res.status + " " + res.statusText;
    try { message = (await res.json()).error || message; } catch (e) { /* not JSON */ }
    throw new Error(message);
  }
  return res;
}

function text(el, value) { el.textContent = value === undefined || value === null ? "" : String(value); }

function fmtDuration(s) {
  if (s === null || s === undefined) return "";
  s = Math.round(s);
  return s >= 3600 ? Math.floor(s / 3600) + "h" + String(Math.floor(s / 60) % 60).padStart(2, "0") + "m"
       : s >= 60 ? Math.floor(s / 60) + "m" + String(s % 60).padStart(2, "0") + "s" : s + "s";
}

function fmtNumber(v) {
  if (typeof v !== "number") return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
  const a = Math.abs(v);
  return a >= 1e5 || (a > 0 && a < 1e-3) ? v.toExponential(3) : a >= 100 ? v.toFixed(0) : v.toPrecision(4);
}

function progressCell(p) {
  const cell = document.createElement("td");
  if (!p) return cell;
  if (p.fraction === null) { text(cell, p.stage || p.label); return cell; }
  const bar = document.createElement("span");
  bar.className = "bar";
  const fill = document.createElement("span");
  fill.style.width = (100 * p.fraction).toFixed(1) + "%";
  bar.appendChild(fill);
  cell.appendChild(bar);
  cell.appendChild(document.createTextNode(" " + Math.round(100 * p.fraction) + "% " + p.done + "/" + p.total +
                                           " " + p.unit + (p.detail ? " · " + p.detail : "")));
  return cell;
}

async function refreshQueue() {
  const runs = (await (await api("/v1/runs")).json()).runs;
  const body = $("queue").querySelector("tbody");
  body.replaceChildren();
  $("queue-empty").hidden = runs.length > 0;
  for (const r of runs.slice().reverse()) {
    const tr = document.createElement("tr");
    tr.dataset.id = r.id;
    tr.dataset.state = r.state;
    if (r.id === selected) tr.className = "selected";
    for (const v of [r.id, r.kind, r.name]) { const td = document.createElement("td"); text(td, v); tr.appendChild(td); }
    const st = document.createElement("td");
    const badge = document.createElement("span");
    badge.className = "state state-" + r.state;
    text(badge, r.state);
    st.appendChild(badge);
    tr.appendChild(st);
    tr.appendChild(progressCell(r.progress));
    const rate = document.createElement("td");
    if (r.progress && r.progress.rate !== null) text(rate, fmtNumber(r.progress.rate) + " " + r.progress.rate_unit + "/s");
    tr.appendChild(rate);
    const eta = document.createElement("td");
    if (r.progress) text(eta, fmtDuration(r.progress.eta_s));
    tr.appendChild(eta);
    const actions = document.createElement("td");
    if (r.state === "queued" || r.state === "running") {
      const b = document.createElement("button");
      text(b, "Cancel");
      b.onclick = async (ev) => { ev.stopPropagation(); await api("/v1/runs/" + r.id, {method: "DELETE"}); refresh(); };
      actions.appendChild(b);
    }
    tr.appendChild(actions);
    tr.onclick = () => { selected = r.id; shownReportFor = ""; refresh(); };
    body.appendChild(tr);
  }
}

const svgNS = "http://www.w3.org/2000/svg";
function svgEl(name, attrs, content) {
  const el = document.createElementNS(svgNS, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (content !== undefined) el.textContent = content;
  return el;
}

// A bar chart with a y axis (ticks and its unit) and one labelled bar per value.
function barChart(svg, labels, values, unit, colour) {
  svg.replaceChildren();
  const w = +svg.getAttribute("width"), h = +svg.getAttribute("height");
  const left = 56, bottom = 70, top = 10, plotH = h - bottom - top, plotW = w - left - 10;
  const max = Math.max(...values, 1e-12);
  svg.appendChild(svgEl("line", {x1: left, y1: top, x2: left, y2: top + plotH, stroke: "#333"}));
  svg.appendChild(svgEl("line", {x1: left, y1: top + plotH, x2: left + plotW, y2: top + plotH, stroke: "#333"}));
  for (let i = 0; i <= 4; ++i) {
    const v = max * i / 4, y = top + plotH - plotH * i / 4;
    svg.appendChild(svgEl("line", {x1: left - 4, y1: y, x2: left, y2: y, stroke: "#333"}));
    svg.appendChild(svgEl("text", {x: left - 6, y: y + 4, "text-anchor": "end", "font-size": 10}, fmtNumber(v)));
  }
  svg.appendChild(svgEl("text", {x: 12, y: top + plotH / 2, "font-size": 10, transform: `rotate(-90 12 ${top + plotH / 2})`,
                                 "text-anchor": "middle"}, unit));
  const step = plotW / Math.max(values.length, 1);
  values.forEach((v, i) => {
    const bh = plotH * v / max, x = left + i * step + step * 0.1;
    const bar = svgEl("rect", {x, y: top + plotH - bh, width: Math.max(step * 0.8, 1), height: bh, fill: colour,
                               class: "bar-mark"});
    bar.appendChild(svgEl("title", {}, labels[i] + ": " + fmtNumber(v) + " " + unit));
    svg.appendChild(bar);
    if (values.length <= 40) {
      const lx = x + step * 0.4, ly = top + plotH + 6;
      svg.appendChild(svgEl("text", {x: lx, y: ly, "font-size": 9, transform: `rotate(60 ${lx} ${ly})`}, labels[i]));
    }
  });
}

async function showRun() {
  if (!selected) return;
  const r = await (await api("/v1/runs/" + selected)).json();
  $("run-section").hidden = false;
  text($("run-id"), r.id + " · " + r.kind + " · " + r.name);
  text($("run-state"), r.state);
  $("run-state").className = "state state-" + r.state;
  $("run-state").dataset.state = r.state;
  const p = r.progress;
  text($("run-progress"), p ? (p.fraction !== null ? `${p.label}: ${Math.round(100 * p.fraction)}% ${p.done}/${p.total} ${p.unit}` +
                                 (p.rate !== null ? `, ${fmtNumber(p.rate)} ${p.rate_unit}/s` : "") +
                                 (p.eta_s !== null ? `, ETA ${fmtDuration(p.eta_s)}` : "") + (p.detail ? `, ${p.detail}` : "")
                               : `${p.label}: ${p.stage || "starting"}`) : "");
  $("run-error").hidden = !r.error;
  text($("run-error"), r.error);
  const rows = $("run-metrics").querySelector("tbody");
  rows.replaceChildren();
  const flat = (obj, prefix) => {
    for (const [k, v] of Object.entries(obj || {})) {
      if (v !== null && typeof v === "object" && !Array.isArray(v)) flat(v, prefix + k + ".");
      else if (typeof v !== "object" && !(prefix + k).endsWith("profile.source")) {
        const tr = document.createElement("tr");
        const a = document.createElement("td"), b = document.createElement("td");
        text(a, prefix + k);
        text(b, fmtNumber(v));
        tr.append(a, b);
        rows.appendChild(tr);
      }
    }
  };
  flat(r.metrics, "");
  const links = $("artefacts");
  links.replaceChildren(document.createTextNode(r.artefacts.length ? "Artefacts: " : ""));
  for (const name of r.artefacts) {
    const a = document.createElement("a");
    a.href = "#";
    text(a, name);
    a.onclick = async (ev) => {  // the API wants the token, so the file comes through fetch
      ev.preventDefault();
      const blob = await (await api(`/v1/runs/${r.id}/${name}`)).blob();
      const url = URL.createObjectURL(blob);
      const dl = document.createElement("a");
      dl.href = url;
      dl.download = r.id + "-" + name;
      dl.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    };
    links.append(a, document.createTextNode(" "));
  }
  const hasReport = r.artefacts.includes("report.json");
  $("charts").hidden = !hasReport;
  $("show-report").hidden = !r.artefacts.includes("report.html");
  if (hasReport && shownReportFor !== r.id) {
    shownReportFor = r.id;
    const rep = await (await api(`/v1/runs/${r.id}/report.json`)).json();
    const layers = rep.layers.filter((l) => l.energy_pj > 0);
    const short = (name) => name.replace(/^blocks\./, "b");
    barChart($("chart-energy"), layers.map((l) => short(l.name)), layers.map((l) => l.energy_pj * 1e-3), "nJ", "#2f6fde");
    const spiking = rep.layers.filter((l) => l.neuron_steps > 0);
    barChart($("chart-rate"), spiking.map((l) => short(l.name)), spiking.map((l) => l.firing_rate), "rate", "#d9822b");
  }
}

$("show-report").onclick = async () => {
  const html = await (await api(`/v1/runs/${selected}/report.html`)).text();
  const frame = $("report");
  frame.srcdoc = html;
  frame.hidden = false;
};

async function refresh() {
  try {
    await refreshQueue();
    await showRun();
  } catch (e) {
    text($("health"), "error: " + e.message);
  }
}

async function submit() {
  try {
    const res = await api("/v1/runs", {method: "POST", headers: {"Content-Type": "application/json"},
                                        body: $("scenario").value});
    const j = await res.json();
    text($("submit-result"), "queued " + j.id);
    selected = j.id;
    shownReportFor = "";
    refresh();
  } catch (e) {
    text($("submit-result"), e.message);
    $("submit-result").className = "error";
  }
}

async function generate() {
  const out = $("gen-output");
  out.replaceChildren();
  text($("gen-stats"), "generating…");
  const energies = [];
  const body = {checkpoint: $("gen-checkpoint").value, text: $("gen-text").value, tokens: +$("gen-tokens").value,
                temperature: +$("gen-temperature").value};
  try {
    const res = await api("/v1/generate", {method: "POST", headers: {"Content-Type": "application/json"},
                                           body: JSON.stringify(body)});
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let pending = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      pending += decoder.decode(value, {stream: true});
      let nl;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const ev = JSON.parse(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        if (ev.event === "prompt") {
          const s = document.createElement("span");
          s.className = "prompt";
          text(s, ev.text);
          out.appendChild(s);
        } else if (ev.event === "token") {
          const s = document.createElement("span");
          s.className = "tok";
          s.title = `token ${ev.index} (id ${ev.id}): ${fmtNumber(ev.energy_pj * 1e-3)} nJ`;
          text(s, ev.text);
          out.appendChild(s);
          energies.push(ev.energy_pj * 1e-3);
          barChart($("chart-tokens"), energies.map((_, i) => String(i)), energies, "nJ", "#3c9d5d");
        } else if (ev.event === "done") {
          text($("gen-stats"), `${ev.generated} tokens, ${fmtNumber(ev.tokens_per_s)} tokens/s, ` +
                               `${fmtNumber(ev.energy_pj_per_token * 1e-3)} nJ per token (${ev.profile})`);
          $("gen-stats").dataset.done = "1";
        } else if (ev.event === "error") {
          text($("gen-stats"), ev.error);
        }
      }
    }
  } catch (e) {
    text($("gen-stats"), e.message);
  }
}

$("example").onchange = () => { $("scenario").value = JSON.stringify(examples[$("example").value], null, 2); };
$("example").onchange();
$("submit").onclick = submit;
$("generate").onclick = generate;
$("token").value = token;
$("token-form").onsubmit = (ev) => {
  ev.preventDefault();
  token = $("token").value.trim();
  sessionStorage.setItem("wtasim-token", token);
  refresh();
};

(async () => {
  try {
    const h = await (await fetch("/v1/health")).json();
    text($("health"), "wtasim " + h.version + " · " + h.status);
  } catch (e) {
    text($("health"), "server unreachable");
  }
  if (!token) return;
  if (hash.get("submit") && examples[hash.get("submit")]) {
    $("example").value = hash.get("submit");
    $("example").onchange();
    await submit();
  }
  await refresh();
  setInterval(refresh, 1000);
  if (hash.get("generate")) await generate();
})();

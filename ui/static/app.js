// mlrun UI: charts, parallel coordinates and a few conveniences. No
// framework, nothing fetched from outside this server.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
// BASE is the path the UI is served under (mlrun server --static-prefix),
// written by the server into every page's head; "" at the root.
const BASE = (document.querySelector('meta[name="mlrun-base"]') || {}).content || "";
const COLORS = ["#0b6bcb", "#d9480f", "#2b8a3e", "#862e9c", "#c92a2a", "#1098ad", "#e67700", "#5c940d"];

function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function text(parent, x, y, s, anchor) {
  const t = el("text", { x, y, "font-size": 11, fill: "#6b7385", "text-anchor": anchor || "middle" }, parent);
  t.textContent = s;
  return t;
}

function fmt(v) {
  if (Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && v !== 0)) return v.toExponential(2);
  return String(Math.round(v * 1000) / 1000);
}

// smooth applies an exponential moving average (TensorBoard's, debiased).
function smooth(points, w) {
  if (!w) return points;
  let last = 0, n = 0;
  return points.map(p => { last = last * w + (1 - w) * p.y; n++; return { x: p.x, y: last / (1 - Math.pow(w, n)) }; });
}

function drawLines(box, series, opts) {
  box.textContent = "";
  const W = box.clientWidth || 800, H = 320, L = 60, R = 20, T = 16, B = 36;
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, height: H, role: "img" }, box);
  const all = series.flatMap(s => s.points).filter(p => !opts.log || p.y > 0);
  if (!all.length) { text(svg, W / 2, H / 2, "No points to draw."); return; }
  const ty = v => opts.log ? Math.log10(v) : v;
  let x0 = Math.min(...all.map(p => p.x)), x1 = Math.max(...all.map(p => p.x));
  let y0 = Math.min(...all.map(p => ty(p.y))), y1 = Math.max(...all.map(p => ty(p.y)));
  if (x0 === x1) x1 = x0 + 1;
  if (y0 === y1) { y0 -= 1; y1 += 1; }
  const sx = x => L + (x - x0) / (x1 - x0) * (W - L - R);
  const sy = y => H - B - (ty(y) - y0) / (y1 - y0) * (H - T - B);
  el("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#999" }, svg);
  el("line", { x1: L, y1: T, x2: L, y2: H - B, stroke: "#999" }, svg);
  for (let i = 0; i <= 4; i++) {
    const yv = y0 + (y1 - y0) * i / 4, xv = x0 + (x1 - x0) * i / 4;
    const ypix = H - B - (yv - y0) / (y1 - y0) * (H - T - B);
    text(svg, L - 4, ypix + 4, fmt(opts.log ? Math.pow(10, yv) : yv), "end");
    el("line", { x1: L, y1: ypix, x2: W - R, y2: ypix, stroke: "#eee" }, svg);
    text(svg, sx(xv), H - B + 14, opts.x === "time" ? new Date(xv).toISOString().slice(11, 19) : fmt(xv));
  }
  text(svg, (W + L) / 2, H - 4, opts.x === "relative" ? "seconds since start" : opts.x === "time" ? "wall time (UTC)" : "step");
  series.forEach((s, i) => {
    const pts = smooth(s.points, opts.smoothing).filter(p => !opts.log || p.y > 0);
    const line = el("polyline", { fill: "none", stroke: COLORS[i % COLORS.length], "stroke-width": 1.6,
      points: pts.map(p => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(" ") }, svg);
    line.setAttribute("class", "series");
    line.setAttribute("data-run", s.run_id);
    line.setAttribute("data-points", pts.length);
    const title = el("title", {}, line);
    title.textContent = `${s.name}: ${s.total} points`;
  });
}

function setupChart() {
  const box = document.getElementById("chart");
  if (!box) return;
  const ctl = id => document.getElementById(id);
  let series = [], timer = null;
  const opts = () => ({ x: ctl("x-axis").value, log: ctl("log-scale").checked, smoothing: parseFloat(ctl("smoothing").value) });
  async function load() {
    const q = new URLSearchParams({ runs: box.dataset.runs, key: box.dataset.key, x: ctl("x-axis").value, n: 1000 });
    const resp = await fetch(BASE + "/ui-api/metrics?" + q);
    const body = await resp.json();
    if (body.error) { box.textContent = body.error; return; }
    series = body.series;
    drawLines(box, series, opts());
    box.dataset.loaded = "true";
    clearTimeout(timer);
    if (series.some(s => s.running)) timer = setTimeout(load, 5000); // a running run refreshes itself
  }
  ctl("x-axis").addEventListener("change", load);
  ctl("log-scale").addEventListener("change", () => drawLines(box, series, opts()));
  ctl("smoothing").addEventListener("input", () => drawLines(box, series, opts()));
  load();
}

function setupParallel() {
  const box = document.getElementById("parallel");
  if (!box) return;
  const axes = JSON.parse(box.dataset.axes || "[]");
  if (!axes.length) return;
  const W = box.clientWidth || 800, H = 300, T = 24, B = 24, L = 40, R = 40;
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, height: H }, box);
  const n = axes[0].values.length;
  const scales = axes.map(a => {
    const nums = a.values.map(Number);
    if (nums.every(v => a.values.length && !isNaN(v))) {
      let lo = Math.min(...nums), hi = Math.max(...nums);
      if (lo === hi) { lo -= 1; hi += 1; }
      return v => (Number(v) - lo) / (hi - lo);
    }
    const cats = [...new Set(a.values)].sort();
    return v => cats.length === 1 ? 0.5 : cats.indexOf(v) / (cats.length - 1);
  });
  const ax = i => L + i * (W - L - R) / Math.max(axes.length - 1, 1);
  axes.forEach((a, i) => {
    el("line", { x1: ax(i), y1: T, x2: ax(i), y2: H - B, stroke: "#999" }, svg);
    text(svg, ax(i), T - 8, a.name);
  });
  const last = axes.length - 1, m = scales[last];
  for (let r = 0; r < n; r++) {
    const pts = axes.map((a, i) => `${ax(i)},${H - B - scales[i](a.values[r]) * (H - T - B)}`);
    const hue = 220 - 200 * (isNaN(m(axes[last].values[r])) ? 0 : m(axes[last].values[r]));
    el("polyline", { fill: "none", stroke: `hsl(${hue},70%,45%)`, "stroke-width": 2, points: pts.join(" "), class: "pc-line" }, svg);
  }
}

function setupRunsTable() {
  const form = document.getElementById("runs-form");
  if (!form) return;
  const selected = () => [...form.querySelectorAll("input[name=run]:checked")].map(c => c.value);
  document.getElementById("compare-btn").addEventListener("click", () => {
    const ids = selected();
    if (ids.length < 2) { alert("Select two or more runs to compare."); return; }
    location.href = BASE + "/compare?runs=" + encodeURIComponent(ids.join(","));
  });
  document.getElementById("chart-btn").addEventListener("click", () => {
    const ids = selected();
    if (!ids.length) { alert("Select runs to chart."); return; }
    location.href = BASE + "/charts?runs=" + encodeURIComponent(ids.join(","));
  });
}

// mlflowRoute maps the hash routes of MLflow's UI (what MLflow's client
// prints, e.g. http://host/#/experiments/1/runs/<id>) to this UI's pages.
function mlflowRoute(hash) {
  const [path, query] = hash.replace(/^#/, "").split("?");
  const seg = path.split("/").filter(Boolean).map(decodeURIComponent);
  const q = new URLSearchParams(query || "");
  const enc = encodeURIComponent;
  if (seg[0] === "experiments" && seg[2] === "runs" && seg[3]) return "/runs/" + enc(seg[3]);
  if (seg[0] === "experiments" && seg[1]) {
    const exp = "/experiments/" + enc(seg[1]);
    switch (seg[2]) {
      case "traces": {
        // A trace: MLflow's drawer (?selectedEvaluationId=, ?selectedTraceId=)
        // or its clean URL (/traces/<id>).
        const trace = seg[3] || q.get("selectedEvaluationId") || q.get("selectedTraceId");
        return trace ? "/traces/" + enc(trace) : exp + "/traces";
      }
      case "models":
        return seg[3] ? "/logged-models/" + enc(seg[3]) : exp + "/models";
      case "datasets": return exp + "/datasets";
      case "chat-sessions": return exp + "/sessions";
      case "scorers": case "judges": return exp + "/scorers";
      case "prompts": return "/prompts";
    }
    return exp;
  }
  if (seg[0] === "experiments") return "/experiments";
  if (seg[0] === "models" && seg[1]) return "/models/" + enc(seg[1]);
  if (seg[0] === "models") return "/models";
  if (seg[0] === "prompts" && seg[1]) return "/prompts/" + enc(seg[1]);
  if (seg[0] === "prompts") return "/prompts";
  if (seg[0] === "compare-runs" || seg[0] === "compare-experiments") {
    let runs = [];
    try { runs = JSON.parse(q.get("runs") || "[]"); } catch (e) { runs = []; }
    if (runs.length) return "/compare?runs=" + enc(runs.join(","));
  }
  return null;
}

if (location.hash.startsWith("#/")) {
  const to = mlflowRoute(location.hash);
  if (to) location.replace(BASE + to);
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("select[data-autosubmit]").forEach(s => s.addEventListener("change", () => s.form.submit()));
  setupChart(); setupParallel(); setupRunsTable();
});

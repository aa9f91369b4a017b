// Training (UI.md "Input and training"): start a background job (N samples or E epochs,
// batch size 1 = the articles' per-sample SGD), follow it on the event stream
// (`train.progress` → the progress bar, samples/s, time left and the loss curve growing
// live; `train.done` / `train.error` → the step-through views, the curves, the confusion
// matrix and the kernels over time are drawn again from the server), stop it, evaluate
// on demand, and list the worst-classified held-out digits as buttons that load them.
//
// The owner's page listens to GET /events only while a job runs; a read-only or
// follow page listens all the time (someone else starts the jobs).

import { api } from "./api.js";
import { paintDigit } from "./canvas.js";
import { fill, page } from "./state.js";
import { applyCursor, onRefresh, refresh } from "./session.js";
import { showError, status } from "./status.js";
import { plotOf } from "./views.js";

const Plotly = window.Plotly;
const root = document.querySelector("[data-training]");
const hook = (name) => root.querySelector(`[data-testid="${name}"]`);

let bar;
let text;
let source = null; // the EventSource while listening
let ready = null; // resolves when the stream is subscribed (its first event arrived)
let base = 0; // samples seen before the running job: the x of its first live point
let eventsSinceStart = 0;
const pixels = new Map(); // dataset index → its pixels, for the worst-digit pictures

const msg = (key, values = {}) => fill(root.dataset[key], values);
const sessionPath = (rest = "") => `/sessions/${encodeURIComponent(page.session)}${rest}`;
const locale = () => (page.lang === "zh" ? "zh-CN" : "en");
const number = (v, digits = 0) =>
  new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(v);
const percent = (v) =>
  new Intl.NumberFormat(locale(), { style: "percent", minimumFractionDigits: 1 }).format(v);

function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "…";
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return msg("msgSeconds", { s });
  return msg("msgMinutes", { m: Math.floor(s / 60), s: s % 60 });
}

// ---------------------------------------------------------------- progress

/** Show a job ({state, done, total, samples_per_s, eta_s, error}) on the bar and its text. */
function showJob(job) {
  const state = job.state || "idle";
  const done = job.done || 0;
  const total = job.total || 0;
  bar.max = Math.max(1, total);
  bar.value = Math.min(done, bar.max);
  bar.dataset.done = String(done);
  bar.dataset.total = String(total);
  bar.dataset.state = state;
  const rate = number(job.samples_per_s || 0);
  const texts = {
    idle: () => msg("msgIdle"),
    starting: () => msg("msgStarting"),
    running: () => msg("msgRunning", {
      done: number(done), total: number(total), rate, eta: duration(job.eta_s),
    }),
    done: () => msg("msgDone", { done: number(done), rate }),
    stopped: () => msg("msgStopped", { done: number(done), total: number(total) }),
    error: () => msg("msgFailed", { error: job.error || "" }),
  };
  text.textContent = (texts[state] || texts.idle)();
  text.dataset.kind = state === "error" ? "error" : "";
  const running = state === "running" || state === "starting";
  root.classList.toggle("running", running);
  if (page.canEdit) {
    hook("train-start").disabled = running;
    hook("train-stop").disabled = state !== "running";
    hook("evaluate").disabled = running;
  }
}

// ---------------------------------------------------------------- the live loss curve

function themeColour(name, fallback) {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/**
 * The index of the live loss trace on the training plot, added on first use (on the
 * empty placeholder the axes are switched on first). The points are the job's
 * progress reports: each the mean loss of the latest stretch of samples.
 */
async function liveTrace(el) {
  const found = el.data.findIndex((t) => t.meta && t.meta.metric === "loss.live");
  if (found >= 0) return found;
  if (!el.data.some((t) => t.meta && String(t.meta.metric || "").startsWith("loss"))) {
    await Plotly.relayout(el, {
      annotations: [],
      "xaxis.visible": true,
      "yaxis.visible": true,
      "xaxis.title.text": root.dataset.msgSamplesSeen,
      "yaxis.title.text": "E",
      "yaxis.rangemode": "tozero",
    });
  }
  await Plotly.addTraces(el, {
    type: "scatter", mode: "lines+markers", x: [], y: [], name: root.dataset.msgLive,
    line: { color: themeColour("--bwd", "#c04e00"), width: 3 }, marker: { size: 5 },
    meta: { metric: "loss.live" }, hovertemplate: "%{x}: %{y:.4f}<extra></extra>",
  });
  return el.data.length - 1;
}

let drawing = Promise.resolve();

/** Add one point to the live curve (the server's figure replaces it when the job ends). */
function livePoint(done, loss) {
  const el = plotOf("training");
  if (!el || loss === null || loss === undefined) return;
  const card = el.closest("[data-view]");
  drawing = drawing
    .then(async () => {
      const trace = await liveTrace(el);
      await Plotly.extendTraces(el, { x: [[base + done]], y: [[loss]] }, [trace]);
      card.dataset.livePoints = String(el.data[trace].x.length);
    })
    .catch(() => {});
}

// ---------------------------------------------------------------- the event stream

function listen() {
  if (source) return ready;
  source = new EventSource(`/api/v1${sessionPath("/events")}`);
  ready = new Promise((resolve) => {
    source.addEventListener("cursor", resolve, { once: true });
    setTimeout(resolve, 5000); // never wait for ever: a job still reports at its end
  });
  source.addEventListener("train.progress", (event) => onProgress(JSON.parse(event.data)));
  source.addEventListener("train.done", (event) => onEnd(JSON.parse(event.data)));
  source.addEventListener("train.error", (event) => onEnd(JSON.parse(event.data)));
  // after a dropped connection the job may have ended meanwhile: read its state again
  source.addEventListener("open", () => {
    if (bar.dataset.state === "running") syncJob();
  });
  return ready;
}

function stopListening() {
  if (!source || !page.canEdit) return; // read-only pages keep listening for the next job
  source.close();
  source = null;
  ready = null;
}

function onProgress(job) {
  eventsSinceStart += 1;
  bar.dataset.events = String(Number(bar.dataset.events) + 1);
  if (bar.dataset.state !== "running" && bar.dataset.state !== "starting") {
    // a job someone else started: its curve starts at what the session had seen so far
    api(sessionPath()).then((info) => {
      base = info.counters.samples_seen;
    }).catch(() => {});
  }
  showJob({ ...job, state: "running" });
  livePoint(job.done, job.loss);
}

async function onEnd(job) {
  eventsSinceStart += 1;
  showJob(job);
  stopListening();
  // the owner's status line says how it ended (the follow page's belongs to follow.js)
  if (page.canEdit) status(text.textContent, job.state === "error" ? "error" : "info");
  try {
    if (page.role !== "follow") {
      // the trained weights are in the session and its cursor is at the next sample:
      // every view (the step-through ones and the training ones) is drawn again
      const info = await api(sessionPath());
      await applyCursor(info.cursor);
    }
    await showMetrics();
  } catch (err) {
    showError(err);
  }
}

/** The job as the server has it (on load, and after a reconnect). */
async function syncJob() {
  const metrics = await api(sessionPath("/metrics"));
  const job = metrics.job || { state: "idle" };
  if (job.state === "running") {
    base = (await api(sessionPath())).counters.samples_seen;
    showJob(job);
    listen();
  } else if (bar.dataset.state === "running") {
    onEnd(job);
  } else {
    showJob(job);
  }
  return metrics;
}

// ---------------------------------------------------------------- controls

function amountBody() {
  const form = root.querySelector("[data-train-form]");
  const amount = form.querySelector("[data-train-amount]:checked").value;
  const body = amount === "samples"
    ? { samples: Number.parseInt(hook("train-samples").value, 10) }
    : { epochs: Number(hook("train-epochs").value) };
  body.batch_size = Number(hook("train-batch").value);
  return body;
}

async function start(event) {
  event.preventDefault();
  const body = amountBody();
  showJob({ state: "starting", done: 0, total: body.samples || 0 });
  try {
    base = (await api(sessionPath())).counters.samples_seen;
    await listen(); // subscribed before the job starts: no progress event is missed
    eventsSinceStart = 0;
    const job = await api(sessionPath("/train"), { method: "POST", body });
    if (eventsSinceStart === 0) showJob(job);
  } catch (err) {
    showError(err);
    showJob({ state: "idle" });
    stopListening();
  }
}

async function stop() {
  hook("train-stop").disabled = true;
  try {
    await api(sessionPath("/train/stop"), { method: "POST" });
  } catch (err) {
    showError(err);
  }
}

async function evaluateNow() {
  const button = hook("evaluate");
  button.disabled = true;
  status(msg("msgEvaluating"));
  try {
    const metrics = await api(sessionPath("/evaluate"), { method: "POST" });
    await refresh(); // the training and confusion views show the new evaluation
    await showMetrics(metrics);
    const last = metrics.accuracy[metrics.accuracy.length - 1];
    status(msg("msgEvaluated", { accuracy: percent(last.value) }));
  } catch (err) {
    showError(err);
  } finally {
    button.disabled = bar.dataset.state === "running";
  }
}

// ---------------------------------------------------------------- summary and worst digits

async function showSummary() {
  const info = await api(sessionPath());
  const counters = info.counters || {};
  const accuracy = info.metrics && info.metrics.accuracy;
  const values = { seen: number(counters.samples_seen || 0), updates: number(counters.updates || 0) };
  root.querySelector("[data-train-summary]").textContent = accuracy
    ? msg("msgSummary", { ...values, accuracy: percent(accuracy.value), at: number(accuracy.samples_seen) })
    : msg("msgSummaryNone", values);
}

async function digitPixels(index) {
  if (!pixels.has(index)) {
    pixels.set(index, api(`/datasets/${root.dataset.dataset}/samples/${index}`).then((s) => s.x));
  }
  return pixels.get(index);
}

async function showWorst(worst) {
  const list = hook("worst-digits");
  const clickable = list.dataset.clickable === "1";
  if (!worst || !worst.length) {
    const note = document.createElement("p");
    note.className = "empty";
    note.textContent = list.dataset.msgNone;
    list.replaceChildren(note);
    return;
  }
  const items = await Promise.all(worst.map(async (item) => {
    const el = document.createElement(clickable ? "button" : "div");
    if (clickable) el.type = "button";
    el.className = "worst-digit";
    el.setAttribute("role", "listitem");
    el.dataset.index = item.index;
    el.title = msg("msgWorstItem", { ...item, score: Number(item.score).toFixed(3) });
    el.setAttribute("aria-label", el.title);
    const picture = document.createElement("canvas");
    const x = await digitPixels(item.index);
    paintDigit(picture, x.data, x.shape[0]);
    const caption = document.createElement("span");
    caption.textContent = `${item.label} → ${item.predicted}`;
    el.append(picture, caption);
    return el;
  }));
  list.replaceChildren(...items);
}

async function showMetrics(metrics = null) {
  const data = metrics || (await api(sessionPath("/metrics")));
  await Promise.all([showSummary(), showWorst(data.worst)]);
}

async function loadWorst(index) {
  try {
    const body = { dataset: root.dataset.dataset, index };
    const result = await api(sessionPath("/input"), { method: "POST", body });
    await applyCursor(result.cursor, result.changed);
    const what = msg("msgWhatDataset", { index });
    status(msg("msgLoaded", { what, label: result.cursor.sample.label }));
    const input = document.querySelector('[data-testid="view-input"]');
    if (input) input.scrollIntoView({ behavior: "smooth", block: "center" });
  } catch (err) {
    showError(err);
  }
}

// ---------------------------------------------------------------- wiring

export function init() {
  if (!root) return;
  bar = hook("train-progress");
  text = root.querySelector("[data-train-text]");
  if (page.canEdit) {
    const form = root.querySelector("[data-train-form]");
    form.addEventListener("submit", start);
    hook("train-stop").addEventListener("click", stop);
    hook("evaluate").addEventListener("click", evaluateNow);
    // typing an amount chooses it
    for (const name of ["train-samples", "train-epochs"]) {
      hook(name).addEventListener("input", () => {
        hook(name).closest("label").querySelector("[data-train-amount]").checked = true;
      });
    }
    hook("worst-digits").addEventListener("click", (event) => {
      const item = event.target.closest("[data-index]");
      if (item) loadWorst(Number(item.dataset.index));
    });
  } else {
    listen();
  }
  syncJob().then((metrics) => showMetrics(metrics)).catch(showError);
  // samples seen change with every update step: the summary follows the new sample
  onRefresh((isCurrent) => {
    if (isCurrent() && page.cursor && page.cursor.phase === "input") return showSummary();
    return null;
  });
  window.addEventListener("pagehide", () => source && source.close());
}

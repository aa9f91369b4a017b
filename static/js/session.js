// Moving the cursor (step, back, jump to a phase) and refreshing every panel after.
//
// Panels register a refresher with onRefresh(fn); fn(isCurrent) fetches what it shows
// and draws it only while isCurrent() is true, so a slow answer for an older cursor
// never overwrites a newer one. <body data-state> is "busy" while a refresh runs and
// "ready" after, with data-rendered-phase the phase it drew (tests wait on these).

import { api } from "./api.js";
import { emit, page, phaseIndex } from "./state.js";
import { message, showError, status } from "./status.js";

const refreshers = [];
let generation = 0;
let lastRefresh = Promise.resolve();

export function onRefresh(fn) {
  refreshers.push(fn);
}

/** Redraw every panel for the current cursor; resolves when all are drawn. */
export function refresh() {
  const gen = ++generation;
  const isCurrent = () => gen === generation;
  document.body.dataset.state = "busy";
  lastRefresh = Promise.all(
    refreshers.map((fn) =>
      Promise.resolve()
        .then(() => fn(isCurrent))
        .catch((err) => {
          if (isCurrent()) showError(err);
        }),
    ),
  ).then(() => {
    if (!isCurrent()) return;
    document.body.dataset.state = "ready";
    document.body.dataset.renderedPhase = page.cursor ? page.cursor.phase : "";
  });
  return lastRefresh;
}

/** Resolves when the latest refresh has drawn. */
export function idle() {
  return lastRefresh;
}

/** A new cursor from the API or the event stream: relabel at once, then redraw. */
export function applyCursor(cursor, changed = null) {
  page.cursor = cursor;
  emit("cursor", { cursor, changed });
  return refresh();
}

// Requests that move the cursor run one after another; a few key presses may wait.
let chain = Promise.resolve();
let waiting = 0;
const MAX_WAITING = 4;

function enqueue(action) {
  if (!page.canEdit) return Promise.resolve(false);
  if (waiting >= MAX_WAITING) return Promise.resolve(false);
  waiting += 1;
  const run = chain.then(async () => {
    try {
      const result = await action();
      if (result && result.cursor) {
        applyCursor(result.cursor, result.changed);
        if (document.querySelector('[data-testid="status"]')?.dataset.kind === "error") {
          status(message("msgReady"));
        }
      }
      return true;
    } catch (err) {
      showError(err);
      return false;
    } finally {
      waiting -= 1;
    }
  });
  chain = run;
  return run;
}

const path = (what) => `/sessions/${encodeURIComponent(page.session)}/${what}`;

export function step(count = 1) {
  return enqueue(() => api(path("step"), { method: "POST", body: { count } }));
}

export function back(count = 1) {
  return enqueue(() => api(path("back"), { method: "POST", body: { count } }));
}

/** Step to the next sample's input phase. */
export function nextSample() {
  return enqueue(() => api(path("step"), { method: "POST", body: { to: page.phases[0] || "input" } }));
}

/**
 * Jump to `phase` within the current sample: forward with {"to": phase}, backward
 * with {"count": n} (stepping "to" an earlier phase would cross into the next sample).
 */
export function goTo(phase) {
  return enqueue(() => {
    const here = phaseIndex(page.cursor.phase);
    const there = phaseIndex(phase);
    if (there < 0 || there === here) return null;
    if (there > here) return api(path("step"), { method: "POST", body: { to: phase } });
    return api(path("back"), { method: "POST", body: { count: here - there } });
  });
}

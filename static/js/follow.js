// Follow mode (UI.md "Classroom"): the read-only page listens to GET /events and redraws
// on every `cursor` event (and when a training job ends). The first event of every
// connection is the session's current cursor, so after a dropped connection the page
// catches up as soon as it is back. EventSource retries by itself after a network error;
// when it gives up (an HTTP error while the server restarts) a new one is opened, a little
// later each time; coming back online reconnects at once. The status line and
// body[data-live] say "live" or "reconnecting…".

import { applyCursor, refresh } from "./session.js";
import { page } from "./state.js";
import { showError, status } from "./status.js";

const RETRY_MS = [1000, 2000, 4000, 8000];
const notice = document.querySelector("[data-follow-notice]");
const line = document.querySelector('[data-testid="status"]');
const bar = document.querySelector("[data-msg-deleted]");

let source = null;
let attempts = 0;
let retryTimer = null;
let catchUpTimer = null;
let live = false;
let ended = false;
let lastHeard = Date.now();
// The server sends a `ping` event every 15 s; silence for much longer means the connection
// hangs without having closed (a sleeping laptop, a dropped Wi-Fi link): open a new one.
const SILENCE_MS = 40000;
setInterval(() => {
  if (!ended && source && Date.now() - lastHeard > SILENCE_MS) {
    lastHeard = Date.now();
    setLive(false);
    connect();
  }
}, 5000);

function setLive(on) {
  live = on;
  document.body.dataset.live = on ? "1" : "0";
  if (notice) status(on ? notice.dataset.msgLive : notice.dataset.msgReconnecting, on ? "info" : "error");
}

const failed = () => Boolean(line && line.dataset.kind === "error");

/** A drawing that failed (the network went while it loaded) is tried again while live. */
function catchUpLater() {
  clearTimeout(catchUpTimer);
  catchUpTimer = setTimeout(async () => {
    if (!live) return;
    await refresh();
    if (failed()) catchUpLater();
    else setLive(true);
  }, 2000);
}

async function show(cursor) {
  await applyCursor(cursor);
  if (failed()) catchUpLater();
  else if (live) setLive(true);
}

function connect() {
  clearTimeout(retryTimer);
  if (source) source.close();
  if (ended) return;
  const es = new EventSource(`/api/v1/sessions/${encodeURIComponent(page.session)}/events`);
  source = es;
  es.addEventListener("ping", () => {
    lastHeard = Date.now();
  });
  es.addEventListener("open", () => {
    lastHeard = Date.now();
    attempts = 0;
    setLive(true);
  });
  es.addEventListener("error", () => {
    if (es !== source) return;
    setLive(false);
    if (es.readyState === EventSource.CLOSED) {
      retryTimer = setTimeout(connect, RETRY_MS[Math.min(attempts, RETRY_MS.length - 1)]);
      attempts += 1;
    }
  });
  es.addEventListener("cursor", (event) => {
    lastHeard = Date.now();
    try {
      const data = JSON.parse(event.data);
      if (data && data.cursor) show(data.cursor);
    } catch (err) {
      showError(err);
    }
  });
  es.addEventListener("train.done", () => refresh());
  es.addEventListener("deleted", () => {
    ended = true;
    es.close();
    live = false;
    document.body.dataset.live = "0";
    if (bar) status(bar.dataset.msgDeleted, "error");
  });
}

export function init() {
  if (page.role !== "follow" || !window.EventSource) return;
  document.body.dataset.live = "0";
  connect();
  window.addEventListener("offline", () => setLive(false));
  window.addEventListener("online", () => connect()); // its first event is the current cursor
  window.addEventListener("pagehide", () => {
    ended = true;
    if (source) source.close();
  });
}

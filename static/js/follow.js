// Follow mode (UI.md "Classroom"): the read-only page listens to GET /events and
// redraws on every `cursor` event (and when a training job ends). EventSource
// reconnects by itself; on reconnect the state is read again in case events were missed.

import { api } from "./api.js";
import { page } from "./state.js";
import { applyCursor, refresh } from "./session.js";
import { showError, status } from "./status.js";

export function init() {
  if (page.role !== "follow" || !window.EventSource) return;
  const notice = document.querySelector("[data-follow-notice]");
  const base = `/api/v1/sessions/${encodeURIComponent(page.session)}`;
  const source = new EventSource(`${base}/events`);
  let dropped = false;
  source.addEventListener("open", async () => {
    if (notice) status(notice.dataset.msgLive);
    document.body.dataset.live = "1";
    if (!dropped) return;
    dropped = false;
    try {
      const state = await api(`/sessions/${encodeURIComponent(page.session)}`);
      if (state && state.cursor) applyCursor(state.cursor);
    } catch (err) {
      showError(err);
    }
  });
  source.addEventListener("error", () => {
    dropped = true;
    document.body.dataset.live = "0";
    if (notice) status(notice.dataset.msgReconnecting, "error");
  });
  source.addEventListener("cursor", (event) => {
    try {
      const data = JSON.parse(event.data);
      if (data && data.cursor) applyCursor(data.cursor);
    } catch (err) {
      showError(err);
    }
  });
  source.addEventListener("train.done", () => refresh());
  window.addEventListener("pagehide", () => source.close());
}

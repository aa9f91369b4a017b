// Follow, share and export (UI.md "Classroom"; templates/partials/share.html): the follow
// link and its QR code for this page's address, a link that rebuilds the session (config,
// seed, sample, phase) on any server, opening an exported JSON as a new session, and fork.
// The JSON and .npz downloads are plain links to the API.

import { api } from "./api.js";
import { fill, on, page } from "./state.js";
import { showError, status } from "./status.js";

const section = document.querySelector("[data-share]");
const $ = (sel) => (section ? section.querySelector(sel) : null);
const msg = (key, values = {}) => fill(section.dataset[key], values);
const LOCAL = ["localhost", "127.0.0.1", "[::1]", "::1"];

/** Open a session this browser now owns (app/pages.py keeps the token in a cookie). */
function openOwned(created) {
  const url = `/s/${encodeURIComponent(created.id)}?owner=${encodeURIComponent(created.owner_token)}`;
  window.location.assign(url);
}

/** `/new?…`: the config, the seed, the dataset digit and the phase (app/pages.py new_from_link). */
export function shareLink(cursor) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(page.config || {})) {
    if (value !== null && typeof value !== "object" && key !== "seed") params.set(key, String(value));
  }
  params.set("seed", section ? section.dataset.seed : "0");
  const sample = cursor && cursor.sample;
  if (sample && Number.isInteger(sample.index)) params.set("sample", String(sample.index));
  if (cursor) params.set("phase", cursor.phase);
  return `${window.location.origin}/new?${params}`;
}

function showShareLink(cursor) {
  const field = $('[data-testid="share-link"]');
  if (field) field.value = shareLink(cursor);
  const noSample = $("[data-share-no-sample]");
  const sample = cursor && cursor.sample;
  if (noSample) noSample.hidden = !sample || Number.isInteger(sample.index);
}

function initFollow() {
  const id = encodeURIComponent(page.session);
  const origin = window.location.origin;
  const link = $('[data-testid="follow-link"]');
  if (link) {
    link.href = `${origin}/f/${id}`;
    link.textContent = `${origin}/f/${id}`;
  }
  const qr = $('[data-testid="follow-qr"]');
  if (qr) qr.src = `/api/v1/sessions/${id}/qr.svg?base=${encodeURIComponent(origin)}`;
  const local = $("[data-local-hint]");
  if (local) local.hidden = !LOCAL.includes(window.location.hostname);
}

function initCopy() {
  const button = $("[data-copy]");
  const field = $('[data-testid="share-link"]');
  if (!button || !field) return;
  // the learning rate may have changed since the last step
  field.addEventListener("focus", () => showShareLink(page.cursor));
  button.addEventListener("click", async () => {
    showShareLink(page.cursor);
    field.focus();
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
      status(msg("msgCopied"));
    } catch {
      // no clipboard (an http:// page on the LAN): the link stays selected to copy by hand
    }
  });
}

function initImport() {
  const input = $('[data-testid="import-json"]');
  if (!input) return;
  input.addEventListener("change", async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    status(msg("msgImportWorking", { name: file.name }));
    let body;
    try {
      body = JSON.parse(await file.text());
    } catch {
      status(msg("msgBadFile", { name: file.name }), "error");
      input.value = "";
      return;
    }
    try {
      openOwned(await api("/sessions/import", { method: "POST", body }));
    } catch (err) {
      showError(err);
      input.value = "";
    }
  });
}

function initFork() {
  const button = document.querySelector('[data-testid="fork"]');
  if (!button) return;
  button.addEventListener("click", async () => {
    button.disabled = true;
    status(msg("msgForkWorking"));
    try {
      openOwned(await api(`/sessions/${encodeURIComponent(page.session)}/fork`, { method: "POST" }));
    } catch (err) {
      showError(err);
      button.disabled = false;
    }
  });
}

export function init() {
  if (!section) return;
  initFollow();
  showShareLink(page.cursor);
  on("cursor", ({ cursor }) => showShareLink(cursor));
  initCopy();
  initImport();
  initFork();
}

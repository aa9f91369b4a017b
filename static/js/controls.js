// Controls and keyboard (UI.md item 7): step ▶, back ◀, next sample, play/pause with
// a speed slider, reset, learning rate, the config drawer (theme, language: prefs.js).
// Keys: → step, ← back, Space play/pause, N next sample, R reset, F presenter mode;
// ignored while typing in a form field or while a dialog is open.

import { api } from "./api.js";
import * as presenter from "./presenter.js";
import { fill, page, sleep } from "./state.js";
import { back, idle, nextSample, step } from "./session.js";
import { message, showError, status } from "./status.js";

const $ = (sel) => document.querySelector(sel);
const playButton = $('[data-testid="play"]');
const speedInput = $("[data-speed]");
let playing = false;

function setPlaying(on) {
  playing = on;
  if (!playButton) return;
  playButton.setAttribute("aria-pressed", String(on));
  playButton.textContent = on ? playButton.dataset.labelPause : playButton.dataset.labelPlay;
  document.body.dataset.playing = on ? "1" : "0";
}

async function playLoop() {
  while (playing) {
    const started = performance.now();
    const ok = await step(1);
    await idle();
    if (!ok) {
      setPlaying(false);
      break;
    }
    const perSecond = Number(speedInput ? speedInput.value : 1) || 1;
    const wait = 1000 / perSecond - (performance.now() - started);
    if (wait > 0) await sleep(wait);
  }
}

function togglePlay() {
  if (playing) {
    setPlaying(false);
  } else {
    setPlaying(true);
    playLoop();
  }
}

function createSession(config, seed) {
  status(message("msgCreating"));
  return api("/sessions", { method: "POST", body: { preset: "seed", config, seed } }).then(
    (created) => {
      const url = `/s/${encodeURIComponent(created.id)}?owner=${encodeURIComponent(created.owner_token)}`;
      window.location.assign(url);
    },
  );
}

/** A new session with this one's config (and seed): back to its first sample. */
async function reset() {
  setPlaying(false);
  try {
    const state = await api(`/sessions/${encodeURIComponent(page.session)}`);
    const config = { ...(state.config || page.config) };
    const seed = state.seed ?? config.seed ?? 0;
    delete config.seed;
    await createSession(config, seed);
  } catch (err) {
    showError(err);
  }
}

async function setLearningRate(input) {
  const value = Number(input.value);
  try {
    const result = await api(`/sessions/${encodeURIComponent(page.session)}/config`, {
      method: "PATCH",
      body: { learning_rate: value },
    });
    page.config = { ...page.config, ...((result && result.config) || { learning_rate: value }) };
    status(fill(input.dataset.msgSet, { value }));
  } catch (err) {
    showError(err);
    input.value = page.config.learning_rate;
  }
}

function initConfigDialog() {
  const dialog = $("[data-config-dialog]");
  if (!dialog) return;
  const form = dialog.querySelector("form");
  const error = dialog.querySelector("[data-config-error]");
  dialog.querySelector("[data-config-cancel]").addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const config = {};
    let seed = 0;
    for (const el of form.elements) {
      if (!el.name) continue;
      const kind = el.dataset.kind;
      if (kind === "bool") config[el.name] = el.checked;
      else if (kind === "int") config[el.name] = Number.parseInt(el.value, 10);
      else if (kind === "float") config[el.name] = Number(el.value);
      else if (kind === "seed") seed = Number.parseInt(el.value, 10) || 0;
      else config[el.name] = el.value;
    }
    error.textContent = "";
    try {
      await createSession(config, seed);
    } catch (err) {
      showError(err);
      error.textContent = $('[data-testid="status"]').textContent; // in the page's language
    }
  });
  $('[data-action="config"]').addEventListener("click", () => {
    error.textContent = "";
    dialog.showModal();
  });
}

const ACTIONS = {
  step: () => step(1),
  back: () => back(1),
  "next-sample": () => nextSample(),
  play: () => togglePlay(),
  reset: () => reset(),
};

function typing(target) {
  return Boolean(
    target &&
      target.closest &&
      target.closest("input, select, textarea, [contenteditable=''], [contenteditable='true'], dialog"),
  );
}

function onKey(event) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (typing(event.target) || document.querySelector("dialog[open]")) return;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  const edit = page.canEdit;
  let handled = true;
  if (key === "ArrowRight" && edit) step(1);
  else if (key === "ArrowLeft" && edit) back(1);
  else if (key === " " && edit) togglePlay();
  else if (key === "n" && edit) nextSample();
  else if (key === "r" && edit) reset();
  else if (key === "f" && page.role !== "follow") presenter.toggle();
  else handled = false;
  if (handled) {
    event.preventDefault();
    // a focused button would also be "clicked" by the Space key
    if (key === " " && document.activeElement instanceof HTMLButtonElement) document.activeElement.blur();
  }
}

export function init() {
  document.addEventListener("keydown", onKey);
  if (!page.canEdit) return;
  for (const button of document.querySelectorAll("[data-action]")) {
    const action = ACTIONS[button.dataset.action];
    if (action) button.addEventListener("click", action);
  }
  if (speedInput) {
    const out = $("[data-speed-out]");
    speedInput.addEventListener("input", () => {
      if (out) out.textContent = speedInput.value;
    });
  }
  const lr = $("[data-lr]");
  if (lr) lr.addEventListener("change", () => setLearningRate(lr));
  initConfigDialog();
}

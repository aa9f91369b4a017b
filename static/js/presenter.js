// Presenter mode (UI.md "Classroom"): F or the button. body[data-mode="presenter"] goes full
// screen where the browser allows it, hides the side panels and the buttons, and shows one
// view or a chosen pair large (static/css/presenter.css), with large type in the figures
// too; beside them the view choice, the keys and the follow QR code. Keyboard only:
// → ← Space N R as usual (controls.js), V / Shift+V the next / previous view, Q the QR code
// full screen, F or Esc leave. Nothing is hover-only.

import { on, page } from "./state.js";
import { refresh } from "./session.js";
import { message, status } from "./status.js";
import { setFigureAdjuster } from "./views.js";

const body = document.body;
const button = document.querySelector('[data-testid="presenter-toggle"]');
const select = document.querySelector('[data-testid="presenter-view-select"]');
const panel = document.querySelector("[data-presenter-panel]");
const STORE = "bpl.presenter"; // per tab: a reload (another language, reset) stays presenting

// The smallest type of a figure while presenting (px): numbers readable from the back.
const FIGURE_FONT = 18;

let auto = {};
let fullscreen = false; // did we enter full screen (so leaving it leaves presenter mode)?

export const presenting = () => body.dataset.mode === "presenter";

const cardOf = (view) =>
  [...document.querySelectorAll("[data-view]")].find((card) => card.dataset.view === view);

function chosenViews() {
  const choice = select ? select.value : "auto";
  const views = choice === "auto" ? auto[page.cursor && page.cursor.phase] || [] : choice.split("+");
  const present = views.filter((view) => cardOf(view));
  return present.length ? present : ["input"];
}

/** Mark the cards to show (data-present="1" | "2", in the chosen order). */
function placeViews() {
  for (const card of document.querySelectorAll("[data-view][data-present]")) {
    delete card.dataset.present;
  }
  if (!presenting()) {
    delete body.dataset.presentCount;
    return;
  }
  const views = chosenViews();
  views.forEach((view, i) => {
    cardOf(view).dataset.present = String(i + 1);
  });
  body.dataset.presentCount = String(views.length);
}

function bigger(font, size = FIGURE_FONT) {
  return { ...(font || {}), size: Math.max(Number((font && font.size) || 0), size) };
}

/** Large type in a figure: every font (ticks, colour bars, notes, cell text) ≥ 18 px. */
function enlarge(data, layout) {
  if (!presenting()) return [data, layout];
  const out = { ...layout, font: bigger(layout.font), hoverlabel: { ...(layout.hoverlabel || {}), font: bigger((layout.hoverlabel || {}).font) } };
  for (const key of Object.keys(out)) {
    if (/^[xy]axis\d*$/.test(key) && out[key]) {
      const axis = { ...out[key] };
      if (axis.tickfont) axis.tickfont = bigger(axis.tickfont);
      if (axis.title && typeof axis.title === "object" && axis.title.font) {
        axis.title = { ...axis.title, font: bigger(axis.title.font) };
      }
      out[key] = axis;
    }
  }
  if (Array.isArray(out.annotations)) {
    out.annotations = out.annotations.map((note) => ({ ...note, font: bigger(note.font) }));
  }
  if (out.legend && out.legend.font) out.legend = { ...out.legend, font: bigger(out.legend.font) };
  const traces = data.map((trace) => {
    const t = { ...trace };
    if (t.textfont) t.textfont = bigger(t.textfont);
    if (t.colorbar && t.colorbar.tickfont) t.colorbar = { ...t.colorbar, tickfont: bigger(t.colorbar.tickfont) };
    if (t.marker && t.marker.colorbar && t.marker.colorbar.tickfont) {
      t.marker = { ...t.marker, colorbar: { ...t.marker.colorbar, tickfont: bigger(t.marker.colorbar.tickfont) } };
    }
    return t;
  });
  return [traces, out];
}

function remember() {
  try {
    if (presenting()) {
      window.sessionStorage.setItem(STORE, JSON.stringify({ view: select ? select.value : "auto" }));
    } else {
      window.sessionStorage.removeItem(STORE);
    }
  } catch {
    // storage disabled: nothing to restore after a reload
  }
}

function setQrLarge(on) {
  body.classList.toggle("qr-large", on);
}

export function enter({ full = true } = {}) {
  if (presenting()) return;
  body.dataset.mode = "presenter";
  if (button) button.setAttribute("aria-pressed", "true");
  placeViews();
  remember();
  status(message("msgPresenter"));
  if (full && document.fullscreenEnabled && !document.fullscreenElement) {
    // refused without a user gesture or in a headless browser: presenter mode works anyway
    document.documentElement.requestFullscreen().then(
      () => {
        fullscreen = presenting();
        if (!fullscreen) document.exitFullscreen().catch(() => {}); // left again meanwhile
      },
      () => {
        fullscreen = false;
      },
    );
  }
  refresh();
}

export function leave() {
  if (!presenting()) return;
  body.dataset.mode = page.role;
  setQrLarge(false);
  if (button) button.setAttribute("aria-pressed", "false");
  placeViews();
  remember();
  status(message("msgReady"));
  if (fullscreen && document.fullscreenElement) document.exitFullscreen().catch(() => {});
  fullscreen = false;
  refresh();
}

export function toggle() {
  if (presenting()) leave();
  else enter();
}

function cycle(step) {
  if (!select) return;
  const options = [...select.options].filter((o) => !o.hidden && !o.disabled);
  const at = options.findIndex((o) => o.value === select.value);
  select.value = options[(at + step + options.length) % options.length].value;
  placeViews();
  remember();
}

function typing(target) {
  return Boolean(target && target.closest && target.closest("input, textarea, select, dialog"));
}

function onKey(event) {
  if (!presenting() || event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (typing(event.target)) return;
  let handled = true;
  if (event.key === "v" || event.key === "V") cycle(event.shiftKey ? -1 : 1);
  else if (event.key === "q" || event.key === "Q") setQrLarge(!body.classList.contains("qr-large"));
  else if (event.key === "Escape") {
    if (body.classList.contains("qr-large")) setQrLarge(false);
    else leave();
  } else handled = false;
  if (handled) event.preventDefault();
}

export function init() {
  if (page.role === "follow") return;
  try {
    auto = JSON.parse((panel && panel.dataset.auto) || "{}");
  } catch {
    auto = {};
  }
  if (select) {
    // only the views this page has
    for (const option of select.options) {
      if (option.value !== "auto" && !option.value.split("+").every((view) => cardOf(view))) {
        option.hidden = true;
        option.disabled = true;
      }
    }
    select.addEventListener("change", () => {
      placeViews();
      remember();
      select.blur(); // the keys are the page's again
    });
  }
  setFigureAdjuster(enlarge);
  if (button) button.addEventListener("click", () => toggle());
  document.addEventListener("keydown", onKey);
  document.addEventListener("fullscreenchange", () => {
    // Esc in full screen is the browser's: it leaves full screen, and presenter mode with it
    if (!document.fullscreenElement && fullscreen && presenting()) {
      fullscreen = false;
      leave();
    }
  });
  on("cursor", () => placeViews());
  let saved = null;
  try {
    saved = JSON.parse(window.sessionStorage.getItem(STORE) || "null");
  } catch {
    saved = null;
  }
  if (saved) {
    if (select && [...select.options].some((o) => o.value === saved.view && !o.disabled)) {
      select.value = saved.view;
    }
    // without a key press the browser refuses full screen: F twice brings it back
    body.dataset.mode = "presenter";
    if (button) button.setAttribute("aria-pressed", "true");
    placeViews();
  }
}

// Preferences (UI.md "Classroom"): theme, language and seed notation. A choice is kept in
// localStorage and in a cookie the server reads (app/pages.py `_prefs`), so the next page
// is rendered in it; `?theme=`, `?lang=`, `?seed_notation=` in the address win and are kept.
// Theme and notation switch live (the figures are fetched again in them); the language
// reloads the page, whose every text the server renders (app/i18n.py).

import { page } from "./state.js";
import { refresh } from "./session.js";

const body = document.body;
const PREFS = {
  theme: { store: "bpl.theme", cookie: "bpl_theme", allowed: ["light", "dark", "contrast"] },
  lang: { store: "bpl.lang", cookie: "bpl_lang", allowed: ["en", "zh"] },
  seed_notation: { store: "bpl.seedNotation", cookie: "bpl_seed_notation", allowed: ["0", "1"] },
};
const ONE_YEAR = 365 * 24 * 3600;

function stored(name) {
  try {
    const value = window.localStorage.getItem(PREFS[name].store);
    return PREFS[name].allowed.includes(value) ? value : null;
  } catch {
    return null; // storage disabled: the cookie still carries the choice
  }
}

function save(name, value) {
  try {
    window.localStorage.setItem(PREFS[name].store, value);
  } catch {
    // storage disabled
  }
  document.cookie = `${PREFS[name].cookie}=${value}; path=/; max-age=${ONE_YEAR}; SameSite=Lax`;
}

/** The value the page was rendered with. */
function current(name) {
  if (name === "theme") return page.theme;
  if (name === "lang") return page.lang;
  return body.dataset.seedNotation === "1" ? "1" : "0";
}

/** Keep an address that names the preference in step with the page (reloads keep it). */
function syncAddress(name, value) {
  const url = new URL(window.location.href);
  if (!url.searchParams.has(name)) return;
  url.searchParams.set(name, value);
  window.history.replaceState(window.history.state, "", url.toString());
}

function applyTheme(theme) {
  body.classList.remove(`theme-${page.theme}`);
  body.classList.add(`theme-${theme}`);
  body.dataset.theme = theme;
  page.theme = theme;
  const meta = document.querySelector('meta[name="color-scheme"]');
  if (meta) meta.content = theme === "light" ? "light" : "dark";
  const select = document.querySelector('[data-testid="theme-select"]');
  if (select) select.value = theme;
}

function applySeedNotation(on) {
  body.dataset.seedNotation = on ? "1" : "0";
  const box = document.querySelector('[data-testid="seed-notation"]');
  if (box) box.checked = on;
}

/** Texts the scripts need beyond their panels' data-* attributes (app/pages.py `_js_texts`). */
export function jsTexts() {
  try {
    return JSON.parse(body.dataset.jsTexts || "{}");
  } catch {
    return {};
  }
}

/**
 * Before the first drawing: keep what the address asks for; apply a stored choice the
 * server did not know (its cookie was lost). Returns false when the page reloads.
 */
function applyStored() {
  const url = new URL(window.location.href);
  for (const name of Object.keys(PREFS)) {
    if (url.searchParams.has(name)) save(name, current(name));
  }
  for (const name of ["theme", "seed_notation"]) {
    const value = stored(name);
    if (!url.searchParams.has(name) && value && value !== current(name)) {
      save(name, value);
      if (name === "theme") applyTheme(value);
      else applySeedNotation(value === "1");
    }
  }
  const lang = stored("lang");
  if (!url.searchParams.has("lang") && lang && lang !== page.lang) {
    save("lang", lang);
    // at most once per tab: a browser that refuses cookies would otherwise reload for ever
    if (window.sessionStorage.getItem("bpl.langReload") !== lang) {
      window.sessionStorage.setItem("bpl.langReload", lang);
      window.location.reload();
      return false;
    }
  }
  return true;
}

export function init() {
  const ok = applyStored();
  const theme = document.querySelector('[data-testid="theme-select"]');
  if (theme) {
    theme.addEventListener("change", () => {
      save("theme", theme.value);
      syncAddress("theme", theme.value);
      applyTheme(theme.value);
      refresh();
    });
  }
  const lang = document.querySelector('[data-testid="lang-select"]');
  if (lang) {
    lang.addEventListener("change", () => {
      save("lang", lang.value);
      const url = new URL(window.location.href);
      url.searchParams.set("lang", lang.value);
      window.location.assign(url.toString());
    });
  }
  const seed = document.querySelector('[data-testid="seed-notation"]');
  if (seed) {
    seed.addEventListener("change", () => {
      const value = seed.checked ? "1" : "0";
      save("seed_notation", value);
      syncAddress("seed_notation", value);
      applySeedNotation(seed.checked);
      refresh();
    });
  }
  return ok;
}

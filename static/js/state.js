// The page's shared state, read once from <body data-*> (rendered by templates/base.html),
// and a tiny event bus the panel modules talk through.

const body = document.body;

function parse(text, fallback) {
  try {
    return JSON.parse(text);
  } catch {
    return fallback;
  }
}

export const page = {
  session: body.dataset.session,
  token: body.dataset.token || null,
  role: body.dataset.mode, // "normal" or "follow": what the server rendered
  lang: body.dataset.lang || "en",
  theme: body.dataset.theme || "light",
  config: parse(body.dataset.config, {}),
  cursor: parse(body.dataset.cursor, null),
  phases: parse(body.dataset.phases, []).map((p) => p.name),
};

// Only the owner can change the session, and never from the follow page.
page.canEdit = Boolean(page.token) && page.role !== "follow";

/** Position of a phase in this config's phase list (-1 when unknown). */
export function phaseIndex(phase) {
  return page.phases.indexOf(phase);
}

const bus = new EventTarget();

export function emit(name, detail) {
  bus.dispatchEvent(new CustomEvent(name, { detail }));
}

export function on(name, handler) {
  bus.addEventListener(name, (event) => handler(event.detail));
}

/** Fill `{name}` placeholders of a UI string. */
export function fill(template, values) {
  return String(template || "").replace(/\{(\w+)\}/g, (m, key) => (key in values ? values[key] : m));
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

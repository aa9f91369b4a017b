// Every figure view (UI.md items 2 and 4): GET /figures/{view} into its container
// with Plotly.react (no flicker; the containers have fixed heights in app.css).
//
// The figure's title is shown as the card's <h3> (it wraps; a Plotly title is cut
// off in a narrow card). Clicks on parameter heatmaps (trace meta.param) ask the
// inspector to open; hovering conv/pool cells is announced for the position table.

import { api } from "./api.js";
import { emit, page } from "./state.js";
import { jsTexts } from "./prefs.js";
import { onRefresh } from "./session.js";

const Plotly = window.Plotly;
const cards = new Map(
  [...document.querySelectorAll("[data-view]")].map((card) => [card.dataset.view, card]),
);

// The figure as the API sent it, per graph div: the PNG export puts the title back.
const sent = new WeakMap();

/** Download the view as PNG or SVG with its title (the page shows the title outside the plot). */
async function exportImage(el, format) {
  const original = sent.get(el);
  if (!original) return;
  const layout = {
    ...el.layout,
    title: original.title,
    margin: original.margin,
    shapes: (el.layout.shapes || []).filter((s) => !String(s.name || "").startsWith("hl-")),
    width: el._fullLayout.width,
    height: el._fullLayout.height + 40,
  };
  const url = await Plotly.toImage({ data: el.data, layout }, { format, scale: 2 });
  const link = document.createElement("a");
  link.href = url;
  link.download = `backprop-lens-${original.view}-${(page.cursor || {}).phase || ""}.${format}`;
  link.click();
}

// Plotly's toolbar speaks the page's language (app/pages.py `_js_texts`).
const TEXTS = jsTexts();
const PLOT_CONFIG = {
  displaylogo: false,
  responsive: true,
  locale: page.lang,
  locales: { [page.lang]: { dictionary: TEXTS.plotly || {} } },
  modeBarButtonsToRemove: ["select2d", "lasso2d", "toImage"],
  modeBarButtonsToAdd: [
    { name: "png", title: TEXTS.png, icon: Plotly.Icons.camera, click: (el) => exportImage(el, "png") },
    { name: "svg", title: TEXTS.svg, icon: Plotly.Icons.disk, click: (el) => exportImage(el, "svg") },
  ],
};

// Presenter mode (presenter.js) enlarges the type of every figure while it is on.
let adjust = (data, layout) => [data, layout];
export function setFigureAdjuster(fn) {
  adjust = fn || ((data, layout) => [data, layout]);
}

export function viewNames() {
  return [...cards.keys()];
}

/** The Plotly graph div of a view (or null before its first draw). */
export function plotOf(view) {
  const card = cards.get(view);
  const el = card && card.querySelector("[data-plot]");
  return el && el.classList.contains("js-plotly-plot") ? el : null;
}

function plainTitle(layout) {
  const title = layout && layout.title;
  const text = typeof title === "string" ? title : (title && title.text) || "";
  return text.replace(/<br\s*\/?>/gi, " ").replace(/<[^>]*>/g, "").trim();
}

function query() {
  const params = new URLSearchParams({ theme: page.theme, lang: page.lang });
  if (document.body.dataset.seedNotation === "1") params.set("seed_notation", "1");
  return params.toString();
}

function bindEvents(el) {
  el.on("plotly_click", (event) => {
    const point = event && event.points && event.points[0];
    const meta = (point && point.data && point.data.meta) || {};
    if (meta.param && point.customdata !== undefined && point.customdata !== null) {
      emit("inspect", { param: meta.param, index: Number(point.customdata) });
    }
  });
  el.on("plotly_hover", (event) => {
    const point = event && event.points && event.points[0];
    const meta = (point && point.data && point.data.meta) || {};
    if (!point) return;
    if (meta.tensor === "conv.z" || meta.tensor === "conv.delta") {
      emit("cell-hover", { map: "conv", kernel: meta.kernel || 0, row: point.y, col: point.x });
    } else if (meta.tensor === "pool.out" || meta.tensor === "act.out") {
      emit("cell-hover", { map: "pool", kernel: meta.kernel || 0, row: point.y, col: point.x });
    } else if (meta.tensor === "pool.winners") {
      emit("cell-hover", { map: "winner", j: Number(point.customdata) });
    }
  });
  // Not plotly_unhover: drawing the outlines re-renders the plot, which unhovers it.
  el.addEventListener("mouseleave", () => emit("cell-unhover"));
}

async function draw(view, figure) {
  const card = cards.get(view);
  const el = card.querySelector("[data-plot]");
  const layout = { ...figure.layout };
  card.querySelector("[data-view-title]").textContent = plainTitle(layout) || view;
  layout.title = { text: "" };
  if (layout.meta && layout.meta.missing && Array.isArray(layout.annotations)) {
    // "Computed at phase … — step forward to see it": two lines fit a narrow card
    layout.annotations = layout.annotations.map((note) => ({
      ...note,
      text: String(note.text || "").replace(" — ", "<br>"),
    }));
  }
  layout.margin = { ...(layout.margin || {}), t: 30 };
  const first = !el.classList.contains("js-plotly-plot");
  sent.set(el, { view, title: figure.layout.title, margin: figure.layout.margin });
  const [data, shown] = adjust(figure.data || [], layout);
  await Plotly.react(el, data, shown, PLOT_CONFIG);
  if (first) bindEvents(el);
  card.dataset.phase = (layout.meta && layout.meta.phase) || "";
  emit("view-drawn", { view });
}

async function refreshView(view, isCurrent) {
  const figure = await api(
    `/sessions/${encodeURIComponent(page.session)}/figures/${encodeURIComponent(view)}?${query()}`,
  );
  if (isCurrent()) await draw(view, figure);
}

// Plotly's `responsive` follows the window only; a card can change width on its own
// (the inspector opening, the grid reflowing), so each plot follows its container.
const resizer = window.ResizeObserver
  ? new ResizeObserver((entries) => {
      for (const entry of entries) {
        if (entry.target.classList.contains("js-plotly-plot")) Plotly.Plots.resize(entry.target);
      }
    })
  : null;

export function init() {
  if (resizer) for (const card of cards.values()) resizer.observe(card.querySelector("[data-plot]"));
  onRefresh((isCurrent) => Promise.all(viewNames().map((view) => refreshView(view, isCurrent))));
}

// Every figure view (UI.md items 2 and 4): GET /figures/{view} into its container
// with Plotly.react (no flicker; the containers have fixed heights in app.css).
//
// The figure's title is shown as the card's <h3> (it wraps; a Plotly title is cut
// off in a narrow card). Clicks on parameter heatmaps (trace meta.param) ask the
// inspector to open; hovering conv/pool cells is announced for the position table.

import { api } from "./api.js";
import { emit, page } from "./state.js";
import { onRefresh } from "./session.js";

const Plotly = window.Plotly;
const cards = new Map(
  [...document.querySelectorAll("[data-view]")].map((card) => [card.dataset.view, card]),
);

const PLOT_CONFIG = {
  displaylogo: false,
  responsive: true,
  modeBarButtonsToRemove: ["select2d", "lasso2d"],
};

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
  layout.margin = { ...(layout.margin || {}), t: 30 };
  const first = !el.classList.contains("js-plotly-plot");
  const config = {
    ...PLOT_CONFIG,
    toImageButtonOptions: { filename: `backprop-lens-${view}-${(page.cursor || {}).phase || ""}` },
  };
  await Plotly.react(el, figure.data || [], layout, config);
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

export function init() {
  onRefresh((isCurrent) => Promise.all(viewNames().map((view) => refreshView(view, isCurrent))));
}

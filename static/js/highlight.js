// Outlines for one pooled cell j (UI.md item 3, MATH §2), drawn as extra layout
// shapes named "hl-…" on the views' own axes (layout.meta.axes[kernel]):
//   conv, conv-delta: the 2×2 window (rows 2r..2r+1, cols 2c..2c+1) and its winner cell
//   pool, activations: the pooled cell (r, c)
//   input:            the k×k receptive field of the winner, starting at start_14
// Removing them restores each figure's own shapes.

import { page } from "./state.js";
import { plotOf } from "./views.js";

const Plotly = window.Plotly;
const PREFIX = "hl-";

function colour() {
  return getComputedStyle(document.body).getPropertyValue("--hl").trim() || "#e6007e";
}

function rect(name, axes, row0, col0, rows, cols, width, dash = "solid") {
  const [x, y] = axes;
  return {
    name: `${PREFIX}${name}`,
    type: "rect",
    xref: x,
    yref: y,
    x0: col0 - 0.5,
    x1: col0 + cols - 0.5,
    y0: row0 - 0.5,
    y1: row0 + rows - 0.5,
    line: { color: colour(), width, dash },
    fillcolor: "rgba(0,0,0,0)",
    layer: "above",
  };
}

function axesOf(el, kernel) {
  const meta = (el.layout && el.layout.meta) || {};
  if (meta.missing) return null;
  const axes = meta.axes || [["x", "y"]];
  return axes[kernel] || null;
}

function setShapes(el, extra) {
  const own = ((el.layout && el.layout.shapes) || []).filter(
    (s) => !String(s.name || "").startsWith(PREFIX),
  );
  const had = own.length !== ((el.layout && el.layout.shapes) || []).length;
  if (!extra.length && !had) return Promise.resolve();
  return Plotly.relayout(el, { shapes: [...own, ...extra] });
}

/** Outline pool-table row `row` (an object from GET /pool-table) in every view that shows it. */
export function show(row) {
  const k = Number(page.config.kernel_size) || 5;
  const [sr, sc] = row.start_14;
  const work = [];
  for (const view of ["conv", "conv-delta"]) {
    const el = plotOf(view);
    const axes = el && axesOf(el, row.kernel);
    if (!axes) continue;
    work.push(
      setShapes(el, [
        rect("window", axes, 2 * row.row, 2 * row.col, 2, 2, 4),
        rect("winner", axes, sr, sc, 1, 1, 2, "dot"),
      ]),
    );
  }
  for (const view of ["pool", "activations"]) {
    const el = plotOf(view);
    const axes = el && axesOf(el, row.kernel);
    if (axes) work.push(setShapes(el, [rect("cell", axes, row.row, row.col, 1, 1, 4)]));
  }
  const input = plotOf("input");
  const axes = input && axesOf(input, 0);
  if (axes) work.push(setShapes(input, [rect("field", axes, sr, sc, k, k, 4)]));
  return Promise.all(work);
}

export function clear() {
  const work = [];
  for (const view of ["conv", "conv-delta", "pool", "activations", "input"]) {
    const el = plotOf(view);
    if (el) work.push(setShapes(el, []));
  }
  return Promise.all(work);
}

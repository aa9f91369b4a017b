// The position table 池化位置表 (UI.md item 3): one <tbody> row per pooled cell from
// GET /pool-table, in both conventions. Pointing at (or focusing) a row outlines its
// window, winner and receptive field (highlight.js); pointing at a conv or pooled
// cell in a figure lights that cell's row.

import { api } from "./api.js";
import * as highlight from "./highlight.js";
import { on, page } from "./state.js";
import { onRefresh } from "./session.js";

const table = document.querySelector('[data-testid="pool-table"]');
const body = table ? table.tBodies[0] : null;
const wrap = document.querySelector("[data-pool-wrap]");
const empty = document.querySelector("[data-pool-empty]");
let rows = [];
let active = null; // j of the highlighted row

const pair = (v) => (Array.isArray(v) ? `(${v.join(", ")})` : "—");
const num = (v) => (v === null || v === undefined ? "—" : String(Number(Number(v).toPrecision(4))));

function makeRow(row) {
  const tr = document.createElement("tr");
  tr.dataset.j = row.j;
  tr.tabIndex = 0;
  const cells = [
    row.kernel,
    `(${row.row}, ${row.col})`,
    `(${row.seed_i}, ${row.seed_j})`,
    pair(row.winner),
    pair(row.seed_winner),
    num(row.value),
    row.index_10,
    pair(row.start_14),
    row.start_14_index,
    num(row.delta),
  ];
  cells.forEach((text, i) => {
    const td = document.createElement("td");
    td.textContent = String(text);
    if (i === 2 || i === 4) td.className = "seed";
    if (i === 5 || i === 9) td.className = "num";
    tr.append(td);
  });
  return tr;
}

function rowEl(j) {
  return body ? body.querySelector(`tr[data-j="${j}"]`) : null;
}

function scrollToRow(tr) {
  if (!wrap || !tr) return;
  const head = table.tHead ? table.tHead.offsetHeight : 0;
  const top = tr.offsetTop;
  const bottom = top + tr.offsetHeight;
  if (top - head < wrap.scrollTop || bottom > wrap.scrollTop + wrap.clientHeight) {
    wrap.scrollTop = Math.max(0, top - head - (wrap.clientHeight - head) / 2);
  }
}

/** Highlight pooled cell j: its row, and its outlines in the figures. */
function select(j, { scroll = false } = {}) {
  if (j === active) return;
  const row = rows.find((r) => r.j === j);
  if (!row) return;
  unselect(false);
  active = j;
  const tr = rowEl(j);
  if (tr) {
    tr.classList.add("highlight");
    if (scroll) scrollToRow(tr);
  }
  highlight.show(row);
}

function unselect(clearShapes = true) {
  if (active === null) return;
  const tr = rowEl(active);
  if (tr) tr.classList.remove("highlight");
  active = null;
  if (clearShapes) highlight.clear();
}

function render(list) {
  unselect();
  rows = list;
  body.replaceChildren(...rows.map(makeRow));
  if (empty) empty.hidden = rows.length > 0;
  table.dataset.rows = String(rows.length);
}

/** j of the pooled cell that conv cell (row, col) of kernel q belongs to, or null. */
function pooledOf(kernel, row, col) {
  const p = Math.floor((Number(page.config.input_size) - Number(page.config.kernel_size) + 1) / 2);
  const r = Math.floor(row / 2);
  const c = Math.floor(col / 2);
  if (r >= p || c >= p) return null;
  return kernel * p * p + r * p + c;
}

export function init() {
  if (!table) return;
  onRefresh(async (isCurrent) => {
    const data = await api(`/sessions/${encodeURIComponent(page.session)}/pool-table`);
    if (isCurrent()) render(data.rows || []);
  });
  for (const [type, handler] of [
    ["mouseover", (tr) => select(Number(tr.dataset.j))],
    ["focusin", (tr) => select(Number(tr.dataset.j))],
  ]) {
    body.addEventListener(type, (event) => {
      const tr = event.target.closest("tr[data-j]");
      if (tr) handler(tr);
    });
  }
  body.addEventListener("mouseleave", () => unselect());
  body.addEventListener("focusout", (event) => {
    if (!body.contains(event.relatedTarget)) unselect();
  });
  on("cell-hover", (cell) => {
    let j = null;
    if (cell.map === "winner") j = cell.j;
    else if (cell.map === "conv") j = pooledOf(cell.kernel, cell.row, cell.col);
    else if (cell.map === "pool") {
      const p = Math.floor((Number(page.config.input_size) - Number(page.config.kernel_size) + 1) / 2);
      j = cell.kernel * p * p + cell.row * p + cell.col;
    }
    if (j !== null) select(j, { scroll: true });
  });
  on("cell-unhover", () => unselect());
  on("highlight-j", (j) => (j === null ? unselect() : select(j, { scroll: true })));
}

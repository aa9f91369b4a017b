// The weight inspector (UI.md item 5): the chain rule of one weight's gradient from
// GET /explain/{param}/{index}: the server's MathML formula, the table of terms, their
// sum, the engine's gradient and the central-difference value, all as plain decimal
// text at full precision (String(value)). Deep link: #inspect=conv.w/7.
// Before the phase that computes the gradient it says which phase that is and fills
// in by itself once the cursor gets there (it refreshes with every cursor change).

import { api } from "./api.js";
import { emit, fill, on, page, phaseIndex } from "./state.js";
import { onRefresh } from "./session.js";

const root = document.querySelector('[data-testid="inspector"]');
const $ = (sel) => root.querySelector(sel);
let current = null; // {param, index}

// Column headings of the terms (the engine's term keys, MATH §3 names), in this order;
// keys not listed follow at the end.
const HEADINGS = {
  j: "j",
  cell: "(u, v)",
  k: "k",
  x_index: "start(j)+off(i)",
  x: "x",
  hocnn: "hocnn[j]",
  h2o: "h2o[m]",
  ds_h2o: "ds(h2o[m])",
  w2: "w2[m,k]",
  ds_yo: "ds(yo[k])",
  error: "yo[k]−d[k]",
  delta: "δ_j",
  delta_y: "δy[k]",
  product: "",
  index_10: "u·C+v",
  act_delta: "δhicnn[j]",
};
// The product column: what is multiplied, per parameter.
const PRODUCT = { conv: "x·δ_j", fc1: "hocnn·ds·w2·δy", fc2: "h2o·δy" };

function columns(terms) {
  const keys = terms.length ? Object.keys(terms[0]) : [];
  const known = Object.keys(HEADINGS).filter((key) => keys.includes(key));
  return [...known, ...keys.filter((key) => !(key in HEADINGS))];
}

// Terms are shown to 6 significant digits so the table fits; the sum and the
// gradients below it keep full precision.
function text(value) {
  if (value === null || value === undefined) return "—";
  if (Array.isArray(value)) return `(${value.join(", ")})`;
  if (typeof value === "number" && !Number.isInteger(value)) return String(Number(value.toPrecision(6)));
  return String(value);
}

function neededPhase(param) {
  return `backward.${param.split(".")[0]}`;
}

function setMessage(msg, kind = "hint") {
  const el = $("[data-inspector-message]");
  el.textContent = msg;
  el.dataset.kind = kind;
  el.hidden = !msg;
}

function clearNumbers() {
  for (const id of ["inspector-sum", "inspector-gradient", "inspector-numeric"]) {
    $(`[data-testid="${id}"]`).textContent = "";
  }
  $("[data-inspector-body]").hidden = true;
  root.dataset.loaded = "";
}

function render(result) {
  const formula = $("[data-inspector-formula]");
  if (result.formula_mathml) formula.innerHTML = result.formula_mathml;
  else formula.textContent = result.formula_latex || "";
  $('[data-testid="inspector-sum"]').textContent = String(result.sum);
  $('[data-testid="inspector-gradient"]').textContent = String(result.gradient);
  $('[data-testid="inspector-numeric"]').textContent = String(result.numeric);
  const terms = result.terms || [];
  const keys = columns(terms);
  const layer = String(result.param).split(".")[0];
  const headRow = document.createElement("tr");
  for (const key of keys) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = key === "product" ? `= ${PRODUCT[layer] || "product"}` : HEADINGS[key] || key;
    headRow.append(th);
  }
  $("table.terms thead").replaceChildren(headRow);
  $("table.terms tbody").replaceChildren(
    ...terms.map((term) => {
      const tr = document.createElement("tr");
      if (term.j !== undefined) tr.dataset.j = term.j;
      for (const key of keys) {
        const td = document.createElement("td");
        td.textContent = text(term[key]);
        tr.append(td);
      }
      return tr;
    }),
  );
  $("[data-inspector-count]").textContent = `(${terms.length})`;
  $("[data-inspector-body]").hidden = false;
  setMessage("");
  root.dataset.loaded = `${result.param}/${result.index}`;
}

async function load(isCurrent = () => true) {
  if (!current) return;
  const { param, index } = current;
  const phase = neededPhase(param);
  const here = phaseIndex(page.cursor.phase);
  if (phaseIndex(phase) >= 0 && here < phaseIndex(phase)) {
    clearNumbers();
    setMessage(fill(root.dataset.msgWaiting, { param, phase }), "waiting");
    return;
  }
  try {
    const result = await api(
      `/sessions/${encodeURIComponent(page.session)}/explain/${encodeURIComponent(param)}/${index}`,
    );
    if (!isCurrent() || !current || current.param !== param || current.index !== index) return;
    render(result);
  } catch (err) {
    if (!isCurrent()) return;
    clearNumbers();
    setMessage(err.message, err.status === 409 ? "waiting" : "error");
  }
}

function show(param, index) {
  current = { param, index };
  root.hidden = false;
  document.body.classList.add("inspector-open");
  $("[data-inspector-name]").textContent = `${param}[${index}]`;
  const hash = `#inspect=${param}/${index}`;
  if (location.hash !== hash) history.replaceState(null, "", hash);
  clearNumbers();
}

export function open(param, index) {
  show(param, index);
  return load();
}

export function close() {
  current = null;
  root.hidden = true;
  document.body.classList.remove("inspector-open");
  if (location.hash.startsWith("#inspect=")) {
    history.replaceState(null, "", location.pathname + location.search);
  }
}

function parseHash() {
  const match = /^#inspect=([\w.]+)\/(\d+)$/.exec(decodeURIComponent(location.hash));
  return match ? { param: match[1], index: Number(match[2]) } : null;
}

export function init() {
  if (!root) return;
  $("[data-inspector-close]").addEventListener("click", close);
  on("inspect", ({ param, index }) => open(param, index));
  onRefresh((isCurrent) => load(isCurrent));
  window.addEventListener("hashchange", () => {
    const target = parseHash();
    if (target) open(target.param, target.index);
  });
  // Pointing at a term j of a kernel weight outlines pooled cell j in the figures.
  const tbody = $("table.terms tbody");
  tbody.addEventListener("mouseover", (event) => {
    const tr = event.target.closest("tr[data-j]");
    if (tr) emit("highlight-j", Number(tr.dataset.j));
  });
  tbody.addEventListener("mouseleave", () => emit("highlight-j", null));
  // A deep link opens now; the page's first refresh fills it in.
  const target = parseHash();
  if (target) show(target.param, target.index);
}

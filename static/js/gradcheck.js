// The gradient-check panel (UI.md item 6, MATH §6): GET /gradcheck on demand, one
// table row per parameter tensor, green when it passes and red when it fails.

import { api } from "./api.js";
import { on, page } from "./state.js";

const root = document.querySelector('[data-testid="gradcheck"]');

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = String(text);
  if (className) td.className = className;
  return td;
}

function render(result) {
  const msg = root.dataset;
  const table = root.querySelector("table");
  table.tBodies[0].replaceChildren(
    ...(result.tensors || []).map((t) => {
      const tr = document.createElement("tr");
      tr.className = t.passed ? "pass" : "fail";
      tr.append(
        cell(t.name),
        cell(t.checked, "num"),
        cell(t.kinks ?? 0, "num"),
        cell(Number(t.max_rel_error).toExponential(3), "num"),
        cell(t.passed ? msg.msgPass : msg.msgFail, "verdict"),
      );
      return tr;
    }),
  );
  table.hidden = false;
  const summary = root.querySelector("[data-gradcheck-summary]");
  summary.textContent =
    `${result.passed ? msg.msgAllPassed : msg.msgSomeFailed} ${msg.msgTolerance}: ${result.tolerance}`;
  summary.className = `gradcheck-summary ${result.passed ? "pass" : "fail"}`;
}

async function run() {
  const button = root.querySelector("[data-gradcheck-run]");
  const summary = root.querySelector("[data-gradcheck-summary]");
  button.disabled = true;
  summary.className = "gradcheck-summary";
  summary.textContent = root.dataset.msgRunning;
  try {
    render(await api(`/sessions/${encodeURIComponent(page.session)}/gradcheck`));
  } catch (err) {
    summary.textContent = err.message;
    summary.className = "gradcheck-summary fail";
  } finally {
    button.disabled = false;
  }
}

export function init() {
  if (!root) return;
  root.querySelector("[data-gradcheck-run]").addEventListener("click", run);
  // A result belongs to one sample's parameters: mark it stale when the sample changes.
  on("cursor", ({ cursor }) => {
    const key = JSON.stringify(cursor.sample);
    if (root.dataset.sample && root.dataset.sample !== key) root.classList.add("stale");
    root.dataset.sample = key;
  });
}

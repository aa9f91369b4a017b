// The network strip and the phase line (UI.md item 1): light the cursor's phase,
// mark what is already computed, show the phase's name, title and description,
// and jump to a phase when a box or an arrow is clicked.

import { on, page, phaseIndex } from "./state.js";
import { goTo } from "./session.js";

const strip = document.querySelector("[data-strip]");
const texts = new Map(
  [...document.querySelectorAll("[data-phase-texts] [data-phase]")].map((li) => [
    li.dataset.phase,
    { title: li.dataset.title, desc: li.dataset.desc },
  ]),
);
const nameEl = document.querySelector('[data-testid="phase"]');
const titleEl = document.querySelector("[data-phase-title]");
const descEl = document.querySelector("[data-phase-desc]");
const sampleEl = document.querySelector("[data-sample]");
const showFresh = document.querySelector("[data-show-fresh]");

function render(cursor) {
  if (!cursor) return;
  const here = phaseIndex(cursor.phase);
  const backward = cursor.phase.startsWith("backward.") || cursor.phase === "update";
  if (strip) {
    strip.dataset.direction = backward ? "backward" : "forward";
    for (const el of strip.querySelectorAll("[data-phase]")) {
      const at = phaseIndex(el.dataset.phase);
      el.classList.toggle("current", el.dataset.phase === cursor.phase);
      el.classList.toggle("done", at >= 0 && at < here);
      if (el.dataset.phase === cursor.phase) el.setAttribute("aria-current", "step");
      else el.removeAttribute("aria-current");
    }
  }
  // the cards whose contents this phase computes
  let fresh = 0;
  for (const card of document.querySelectorAll("[data-phases]")) {
    const on = card.dataset.phases.split(" ").includes(cursor.phase);
    card.classList.toggle("fresh", on);
    fresh += on ? 1 : 0;
  }
  if (showFresh) showFresh.hidden = fresh === 0;
  const text = texts.get(cursor.phase) || { title: "", desc: "" };
  if (nameEl) nameEl.textContent = cursor.phase;
  if (titleEl) titleEl.textContent = text.title;
  if (descEl) descEl.textContent = text.desc;
  if (sampleEl && cursor.sample) {
    const s = cursor.sample;
    const where = s.index === null || s.index === undefined ? s.source : `${s.source} #${s.index}`;
    sampleEl.textContent =
      `${sampleEl.dataset.labelSample}: ${where} · ${sampleEl.dataset.labelLabel} ${s.label}`;
  }
}

export function init() {
  render(page.cursor);
  on("cursor", ({ cursor }) => render(cursor));
  if (showFresh) {
    showFresh.addEventListener("click", (event) => {
      event.preventDefault();
      const card = document.querySelector("[data-phases].fresh");
      if (card) card.scrollIntoView({ behavior: "smooth", block: "start" });
    });
  }
  if (strip && page.canEdit) {
    strip.addEventListener("click", (event) => {
      const target = event.target.closest("[data-phase]");
      if (target) goTo(target.dataset.phase);
    });
  }
}

// Entry point of the step-through and follow pages: start each panel, then draw
// everything for the cursor the server rendered.

import * as controls from "./controls.js";
import * as follow from "./follow.js";
import * as gradcheck from "./gradcheck.js";
import * as input from "./input.js";
import * as inspector from "./inspector.js";
import * as pooltable from "./pooltable.js";
import * as prefs from "./prefs.js";
import * as presenter from "./presenter.js";
import { refresh } from "./session.js";
import * as share from "./share.js";
import { message, status } from "./status.js";
import * as strip from "./strip.js";
import * as training from "./training.js";
import * as views from "./views.js";

prefs.init(); // first: a stored theme or notation applies before anything draws
views.init();
pooltable.init();
inspector.init();
gradcheck.init();
strip.init();
controls.init();
follow.init();
input.init();
training.init();
presenter.init();
share.init();

refresh().then(() => {
  // (the follow page's status line belongs to follow.js: live or reconnecting)
  const line = document.querySelector('[data-testid="status"]');
  if (line.dataset.kind !== "error" && document.body.dataset.mode !== "follow") {
    status(message("msgReady"));
  }
});

// The inspector panel sits below the sticky header, whatever its height.
const header = document.querySelector(".top");
if (header && window.ResizeObserver) {
  new ResizeObserver(() => {
    document.body.style.setProperty("--header-h", `${header.offsetHeight}px`);
  }).observe(header);
}

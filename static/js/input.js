// Choosing the input (UI.md "Input and training"): the dataset picker (index, label
// filter, random, previous/next, thumbnails of nearby digits), the drawing pad and the
// image upload, all through POST /input; and the two pictures of what the network
// reads: the MNIST-style 28×28 and the {S}×{S} input x (the 2×2 mean of it).
//
// A drawing or an upload is sent as a PNG/JPEG data URL (png_base64) with the label
// the student chose; the server converts it exactly as the dataset was made
// (engine/image.py) and answers with the 28×28 it produced.

import { api } from "./api.js";
import { blankDigit, drawingPad, paintDigit } from "./canvas.js";
import { fill, on, page } from "./state.js";
import { applyCursor, onRefresh } from "./session.js";
import { showError, status } from "./status.js";

const root = document.querySelector("[data-input-panel]");
const $ = (hook) => root.querySelector(`[data-testid="${hook}"]`);

const THUMBS = 10;
const MAX_UPLOAD_BYTES = 5_000_000; // engine/image.py MAX_IMAGE_BYTES
const OPEN_KEY = "backprop-lens.input-open";

let dataset = "mnist14";
let size = 14;
let count = 10000;
let shown = null; // the sample the previews show (see sampleKey)
let custom = { n: 0, x28: null }; // the last drawing/upload this page sent, and its 28×28
let pendingUpload = null; // a file chosen before its label
let thumbsKey = null;

const msg = (key, values = {}) => fill(root.dataset[key], values);
const sessionPath = (rest) => `/sessions/${encodeURIComponent(page.session)}${rest}`;

function sampleKey(sample) {
  if (!sample) return "";
  const extra = sample.source === "custom" ? custom.n : "";
  return `${sample.source}:${sample.index}:${sample.label}:${extra}`;
}

// ---------------------------------------------------------------- sending an input

const whatDataset = (index) => msg("msgWhatDataset", { index });

/**
 * POST /input with `body`, move the page to the new cursor and say what was loaded
 * (`what`, or the dataset digit the server picked).
 */
async function loadInput(body, what = null) {
  status(msg("msgLoading"));
  try {
    const result = await api(sessionPath("/input"), { method: "POST", body });
    if (body.png_base64) custom = { n: custom.n + 1, x28: result.x28 };
    await applyCursor(result.cursor, result.changed);
    const sample = result.cursor.sample || { label: body.label };
    status(msg("msgLoaded", { what: what ?? whatDataset(sample.index), label: sample.label }));
    return result;
  } finally {
    // <details data-loads>: requests answered and drawn (tests wait on it)
    root.dataset.loads = String(Number(root.dataset.loads || 0) + 1);
  }
}

function tryLoad(body, what = null) {
  return loadInput(body, what).catch(showError);
}

// ---------------------------------------------------------------- dataset picker

function currentIndex() {
  const sample = page.cursor && page.cursor.sample;
  if (sample && sample.source === dataset && sample.index !== null && sample.index !== undefined) {
    return sample.index;
  }
  const typed = Number.parseInt($("dataset-index").value, 10);
  return Number.isInteger(typed) ? typed : 0;
}

const labelFilter = () => {
  const value = $("dataset-label").value;
  return value === "" ? null : Number(value);
};

function thumbnails(start, n, label) {
  const params = new URLSearchParams({ start: String(start), count: String(n) });
  if (label !== null) params.set("label", String(label));
  return api(`/datasets/${dataset}/thumbnails?${params}`);
}

function loadIndex(index) {
  return tryLoad({ dataset, index });
}

/** Previous or next digit (of the chosen label, if one is chosen), wrapping around. */
async function stepDataset(direction) {
  const here = currentIndex();
  const label = labelFilter();
  try {
    if (label === null) {
      await loadIndex((here + direction + count) % count);
      return;
    }
    let target = null;
    if (direction > 0) {
      const after = await thumbnails((here + 1) % count, 1, label);
      target = after.items.length ? after.items[0].index : (await thumbnails(0, 1, label)).items[0].index;
    } else {
      // about one digit in ten has this label: 48 of them lie within the last ~480 indices
      const before = await thumbnails(Math.max(0, here - 480), 48, label);
      const earlier = before.items.filter((item) => item.index < here);
      if (earlier.length) target = earlier[earlier.length - 1].index;
    }
    if (target !== null) await loadIndex(target);
  } catch (err) {
    showError(err);
  }
}

function onIndexTyped() {
  const input = $("dataset-index");
  const index = Number(input.value);
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    input.value = String(currentIndex());
    showError(new Error(`${input.closest("label").textContent.trim()} 0–${count - 1}`));
    return;
  }
  loadIndex(index);
}

function onLabelFilter() {
  const label = labelFilter();
  const sample = page.cursor && page.cursor.sample;
  if (label === null) {
    renderThumbs(currentIndex(), true);
  } else if (!sample || sample.label !== label || sample.source !== dataset) {
    tryLoad({ dataset, label });
  } else {
    renderThumbs(currentIndex(), true);
  }
}

function onRandom() {
  const body = { dataset, random: true };
  const label = labelFilter();
  if (label !== null) body.label = label;
  tryLoad(body);
}

/** Up to THUMBS digits around `index`: a few before it, it, and those after. */
async function around(index, label) {
  if (label === null) {
    const start = Math.max(0, Math.min(count - THUMBS, index - 4));
    return (await thumbnails(start, THUMBS, label)).items;
  }
  // about one digit in ten has the label: 48 of them from 200 back reach past `index`
  const { items } = await thumbnails(Math.max(0, index - 200), 48, label);
  const at = items.findIndex((item) => item.index >= index);
  if (at < 0) return (await thumbnails(index, THUMBS, label)).items;
  const from = Math.max(0, Math.min(items.length - THUMBS, at - 4));
  return items.slice(from, from + THUMBS);
}

/** The row of digits near `index` (of the chosen label, if any), the current one marked. */
async function renderThumbs(index, force = false) {
  const label = labelFilter();
  const key = `${index}:${label}`;
  const row = $("thumbnails");
  if (!force && key === thumbsKey) {
    markCurrent(row);
    return;
  }
  thumbsKey = key;
  const items = await around(index, label);
  if (thumbsKey !== key) return;
  row.replaceChildren(
    ...items.map((item) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = `thumb ${item.split}`;
      button.dataset.index = item.index;
      button.setAttribute("role", "listitem");
      button.title = `#${item.index} · ${item.label} · ${item.split}`;
      button.setAttribute("aria-label", button.title);
      const picture = document.createElement("canvas");
      paintDigit(picture, item.x.data, item.x.shape[0]);
      const caption = document.createElement("span");
      caption.textContent = String(item.index);
      button.append(picture, caption);
      return button;
    }),
  );
  markCurrent(row);
}

function markCurrent(row) {
  const sample = page.cursor && page.cursor.sample;
  const current = sample && sample.source === dataset ? String(sample.index) : null;
  for (const button of row.children) {
    const on = button.dataset.index === current;
    button.classList.toggle("current", on);
    button.setAttribute("aria-current", on ? "true" : "false");
  }
}

// ---------------------------------------------------------------- drawing and upload

function chosenLabel() {
  const select = $("label-select");
  if (select.value === "") {
    status(msg("msgNeedLabel"), "error");
    select.focus();
    return null;
  }
  return Number(select.value);
}

function useDrawing(pad) {
  if (pad.isEmpty()) {
    status(msg("msgEmpty"), "error");
    return;
  }
  const label = chosenLabel();
  if (label === null) return;
  tryLoad({ png_base64: pad.toDataURL(), label }, msg("msgWhatDrawing"));
}

function readAsDataURL(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.addEventListener("load", () => resolve(reader.result));
    reader.addEventListener("error", () => reject(reader.error));
    reader.readAsDataURL(file);
  });
}

async function upload(file) {
  const input = $("upload");
  if (file.size > MAX_UPLOAD_BYTES) {
    status(msg("msgTooBig", { name: file.name, size: (file.size / 1e6).toFixed(1) }), "error");
    input.value = "";
    return;
  }
  const label = chosenLabel();
  if (label === null) {
    pendingUpload = file; // sent as soon as the label is chosen
    return;
  }
  pendingUpload = null;
  input.value = ""; // the same file can be chosen again
  try {
    await loadInput({ png_base64: await readAsDataURL(file), label }, file.name);
  } catch (err) {
    showError(err);
  }
}

// ---------------------------------------------------------------- what the network sees

async function picture28(sample) {
  if (size !== 14) return null;
  if (sample.source === dataset && sample.index !== null && sample.index !== undefined) {
    const x28 = await api(`/datasets/mnist28/samples/${sample.index}`);
    return x28.x.data;
  }
  if (sample.source === "custom" && custom.x28) return custom.x28.flat();
  return null;
}

async function refreshPreviews(isCurrent) {
  const sample = page.cursor && page.cursor.sample;
  const key = sampleKey(sample);
  if (!sample || key === shown) return;
  const [state, x28] = await Promise.all([
    api(sessionPath("/state?names=x")),
    picture28(sample),
    sample.source === dataset ? renderThumbs(sample.index) : Promise.resolve(),
  ]);
  if (!isCurrent()) return;
  const x = state.tensors.x;
  paintDigit(root.querySelector('[data-preview="x"]'), x.data, x.shape[0]);
  const canvas28 = root.querySelector('[data-preview="28"]');
  if (canvas28) {
    if (x28) paintDigit(canvas28, x28, 28);
    else blankDigit(canvas28);
    root.querySelector("[data-preview-28-note]").hidden = Boolean(x28);
  }
  root.querySelector("[data-target-now]").textContent = msg("msgTarget", { label: sample.label });
  if (sample.source === dataset && document.activeElement !== $("dataset-index")) {
    $("dataset-index").value = String(sample.index);
  }
  markCurrent($("thumbnails"));
  shown = key;
}

// ---------------------------------------------------------------- wiring

function rememberOpen() {
  try {
    if (window.localStorage.getItem(OPEN_KEY) === "1") root.open = true;
    root.addEventListener("toggle", () => window.localStorage.setItem(OPEN_KEY, root.open ? "1" : "0"));
  } catch {
    // storage may be off (private windows): the panel just starts closed
  }
}

export function init() {
  if (!root || !page.canEdit) return;
  dataset = root.dataset.dataset;
  size = Number(root.dataset.size);
  count = Number($("dataset-index").max) + 1;
  rememberOpen();

  for (const button of root.querySelectorAll("[data-dataset-step]")) {
    button.addEventListener("click", () => stepDataset(Number(button.dataset.datasetStep)));
  }
  $("dataset-index").addEventListener("change", onIndexTyped);
  $("dataset-label").addEventListener("change", onLabelFilter);
  $("dataset-random").addEventListener("click", onRandom);
  $("thumbnails").addEventListener("click", (event) => {
    const thumb = event.target.closest("[data-index]");
    if (thumb) loadIndex(Number(thumb.dataset.index));
  });

  const canvas = $("canvas");
  const useButton = $("canvas-use");
  const hint = root.querySelector("[data-pad-hint]");
  canvas.addEventListener("pointerdown", () => {
    hint.hidden = true;
  });
  const pad = drawingPad(canvas, () => {
    const empty = pad.isEmpty();
    hint.hidden = !empty;
    $("canvas-undo").disabled = empty;
    $("canvas-clear").disabled = empty;
    useButton.disabled = empty;
  });
  $("canvas-undo").addEventListener("click", () => pad.undo());
  $("canvas-clear").addEventListener("click", () => pad.clear());
  useButton.addEventListener("click", () => useDrawing(pad));

  $("upload").addEventListener("change", () => {
    const file = $("upload").files[0];
    if (file) upload(file);
  });
  $("label-select").addEventListener("change", () => {
    if (pendingUpload && $("label-select").value !== "") upload(pendingUpload);
  });

  onRefresh(refreshPreviews);
  on("cursor", () => markCurrent($("thumbnails")));
}

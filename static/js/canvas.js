// The drawing pad (UI.md "Input and training") and small digit pictures.
//
// The pad is paper: black ink on a white background, drawn with Pointer Events, so a
// mouse, a pen and a finger all work (the CSS sets `touch-action: none` so a finger
// draws instead of scrolling). Each stroke is kept as its list of points: undo drops
// the last one and redraws the rest. The engine's MNIST-style conversion
// (engine/image.py) inverts the dark-on-light picture, crops, scales and centres it.

const INK = "#000000";
const PAPER = "#ffffff";
// Brush diameter as a fraction of the side: a digit filling the pad ends up with
// strokes about 2 px wide once scaled to MNIST's 20-px box, as in the dataset.
const BRUSH = 0.075;

/**
 * Make `canvas` a drawing pad. `onChange(pad)` runs after every finished stroke,
 * undo and clear. Returns { isEmpty, undo, clear, toDataURL }.
 */
export function drawingPad(canvas, onChange = () => {}) {
  const ctx = canvas.getContext("2d");
  const strokes = [];
  let current = null; // { id: pointerId, points: [[x, y], …] }

  function style() {
    ctx.strokeStyle = INK;
    ctx.fillStyle = INK;
    ctx.lineWidth = BRUSH * canvas.width;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
  }

  function dot([x, y]) {
    ctx.beginPath();
    ctx.arc(x, y, ctx.lineWidth / 2, 0, 2 * Math.PI);
    ctx.fill();
  }

  function segment(from, to) {
    ctx.beginPath();
    ctx.moveTo(from[0], from[1]);
    ctx.lineTo(to[0], to[1]);
    ctx.stroke();
  }

  function drawStroke(points) {
    if (points.length === 1) {
      dot(points[0]);
      return;
    }
    ctx.beginPath();
    ctx.moveTo(points[0][0], points[0][1]);
    for (const [x, y] of points.slice(1)) ctx.lineTo(x, y);
    ctx.stroke();
  }

  function redraw() {
    ctx.fillStyle = PAPER;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    style();
    for (const points of strokes) drawStroke(points);
  }

  /** Pointer position in canvas pixels (the canvas is shown scaled by CSS). */
  function at(event) {
    const box = canvas.getBoundingClientRect();
    return [
      ((event.clientX - box.left) * canvas.width) / box.width,
      ((event.clientY - box.top) * canvas.height) / box.height,
    ];
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (current || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    try {
      canvas.setPointerCapture(event.pointerId); // keep drawing when the pointer leaves the pad
    } catch {
      // a pointer the browser no longer tracks: draw without capture
    }
    current = { id: event.pointerId, points: [at(event)] };
    strokes.push(current.points);
    style();
    dot(current.points[0]);
  });

  canvas.addEventListener("pointermove", (event) => {
    if (!current || event.pointerId !== current.id) return;
    // a fast hand moves several pixels between frames: take every sampled position
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const e of events.length ? events : [event]) {
      const point = at(e);
      segment(current.points[current.points.length - 1], point);
      current.points.push(point);
    }
  });

  function end(event) {
    if (!current || event.pointerId !== current.id) return;
    current = null;
    redraw(); // the whole stroke at once: joins are smoother than the segments were
    onChange(pad);
  }
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);

  const pad = {
    isEmpty: () => strokes.length === 0,
    undo() {
      strokes.pop();
      redraw();
      onChange(pad);
    },
    clear() {
      strokes.length = 0;
      redraw();
      onChange(pad);
    },
    /** The drawing as a PNG data URL, what POST /input takes as png_base64. */
    toDataURL: () => canvas.toDataURL("image/png"),
  };
  redraw();
  return pad;
}

/**
 * Paint a digit (values in [0, 1], row-major, `size`×`size`) on `canvas` as ink on
 * paper: 1 is black, 0 white, like the input view. The canvas is `size` pixels wide;
 * CSS scales it up with crisp pixels.
 */
export function paintDigit(canvas, values, size) {
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(size, size);
  for (let i = 0; i < size * size; i += 1) {
    const v = Math.max(0, Math.min(1, Number(values[i]) || 0));
    const grey = Math.round(255 * (1 - v));
    image.data.set([grey, grey, grey, 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
}

/** A blank (white) digit picture. */
export function blankDigit(canvas) {
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = PAPER;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
}

// The drawing pad: one pointer-event code path for mouse, finger and pen.
//
// Strokes are kept as data (points in pad units, 0..1 across), not only as pixels, so Undo removes the
// last one, a resize or a high-DPI screen redraws them crisply, and `inkGrid` re-renders them onto a
// fixed 280x280 offscreen canvas whose alpha channel is the ink: the same input to preprocessing on
// every screen (its pen scaled to the drawing's size, see PEN_PER_EXTENT). Strokes are opaque on a
// transparent canvas; the pad's look is CSS. Leaves out what happens to the drawing (main.js) and
// the 28x28 maths (preprocess.js).

import { alphaToInk } from "./preprocess.js";

export const INK_GRID = 280; // side of the working ink grid, whatever the screen
const STROKE_WIDTH = 0.1; // the visible pen: a tenth of the pad
// The network's pen follows the drawing's size, so a digit scaled to MNIST's 20 px box has about as
// much ink as MNIST's own (measured per class) whether it was drawn large or small: with a fixed
// pen, small digits became fat blobs (a small open 4 was read as a 9).
const PEN_PER_EXTENT = 0.16;
const MIN_PEN = 0.02; // a lone tap still leaves a dot
const INK_COLOUR = "#10182b";

/** Paint `strokes` (arrays of [x, y] in pad units) with a pen `pen` pad units wide on a `size` px square. */
function paintStrokes(context, strokes, size, pen) {
  context.clearRect(0, 0, size, size);
  context.strokeStyle = INK_COLOUR;
  context.fillStyle = INK_COLOUR;
  context.lineWidth = pen * size;
  context.lineCap = "round";
  context.lineJoin = "round";
  for (const points of strokes) {
    const [x0, y0] = points[0];
    if (points.length === 1) {
      // a tap: a round dot as wide as the pen (a zero-length line would draw nothing)
      context.beginPath();
      context.arc(x0 * size, y0 * size, context.lineWidth / 2, 0, 2 * Math.PI);
      context.fill();
      continue;
    }
    // Smooth curve: a quadratic segment through each point's midpoint with the next one.
    context.beginPath();
    context.moveTo(x0 * size, y0 * size);
    for (let i = 1; i < points.length - 1; i++) {
      const [x, y] = points[i];
      const [nx, ny] = points[i + 1];
      context.quadraticCurveTo(x * size, y * size, ((x + nx) / 2) * size, ((y + ny) / 2) * size);
    }
    const [xn, yn] = points[points.length - 1];
    context.lineTo(xn * size, yn * size);
    context.stroke();
  }
}

export class Pad {
  /**
   * @param {HTMLCanvasElement} canvas the visible pad (CSS decides its size; it must be square)
   * @param {(reason: "draw" | "end" | "undo" | "clear") => void} onChange called after each change
   */
  constructor(canvas, onChange) {
    this.canvas = canvas;
    this.context = canvas.getContext("2d");
    this.onChange = onChange;
    this.strokes = [];
    this.revision = 0; // counts changes; mirrored in data-revision so tests can wait for its answer
    this.pointerId = null; // the one pointer drawing now; others (a palm, a second finger) are ignored
    this.bounds = null;
    this.frameRequested = false;
    canvas.dataset.revision = "0";
    this.inkCanvas = document.createElement("canvas");
    this.inkCanvas.width = this.inkCanvas.height = INK_GRID;
    this.inkContext = this.inkCanvas.getContext("2d", { willReadFrequently: true });

    canvas.addEventListener("pointerdown", (event) => this.start(event));
    canvas.addEventListener("pointermove", (event) => this.move(event));
    for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
      canvas.addEventListener(type, (event) => this.end(event));
    }
    // No scrolling, zooming or long-press menu while drawing (touch-action: none in the CSS does most).
    canvas.addEventListener("touchmove", (event) => event.preventDefault(), { passive: false });
    canvas.addEventListener("contextmenu", (event) => event.preventDefault());
    new ResizeObserver(() => this.resize()).observe(canvas);
    window.addEventListener("resize", () => this.resize()); // zoom or a new screen changes the pixel ratio
    this.resize();
  }

  get isEmpty() {
    return this.strokes.length === 0;
  }

  undo() {
    if (this.isEmpty) return;
    this.stopDrawing();
    this.strokes.pop();
    this.redraw();
    this.changed("undo");
  }

  clear() {
    this.stopDrawing();
    this.strokes = [];
    this.redraw();
    this.changed("clear");
  }

  /** The drawing as ink: { ink: Float32Array(INK_GRID * INK_GRID) in [0, 1], size: INK_GRID }. */
  inkGrid() {
    paintStrokes(this.inkContext, this.strokes, INK_GRID, Math.max(MIN_PEN, PEN_PER_EXTENT * this.extent()));
    const { data } = this.inkContext.getImageData(0, 0, INK_GRID, INK_GRID);
    return { ink: alphaToInk(data), size: INK_GRID };
  }

  /** Match the backing store to the CSS size times the device pixel ratio, so lines stay crisp. */
  resize() {
    const side = Math.round(this.canvas.getBoundingClientRect().width * (window.devicePixelRatio || 1));
    if (side > 0 && side !== this.canvas.width) {
      this.canvas.width = this.canvas.height = side;
      this.redraw();
    }
  }

  redraw() {
    paintStrokes(this.context, this.strokes, this.canvas.width, STROKE_WIDTH);
  }

  /** The longer side of the box around all stroke centre lines, in pad units. */
  extent() {
    let [left, top, right, bottom] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const stroke of this.strokes) {
      for (const [x, y] of stroke) {
        left = Math.min(left, x);
        right = Math.max(right, x);
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
      }
    }
    return this.isEmpty ? 0 : Math.max(right - left, bottom - top);
  }

  /** Pad units (0..1 across) of a pointer event. */
  toPad(event) {
    return [(event.clientX - this.bounds.left) / this.bounds.width, (event.clientY - this.bounds.top) / this.bounds.height];
  }

  start(event) {
    if (this.pointerId !== null || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    this.pointerId = event.pointerId;
    this.canvas.setPointerCapture?.(event.pointerId);
    this.bounds = this.canvas.getBoundingClientRect(); // the page cannot scroll mid-stroke
    this.strokes.push([this.toPad(event)]);
    this.scheduleRedraw();
    this.changed("draw");
  }

  move(event) {
    if (event.pointerId !== this.pointerId) return;
    event.preventDefault();
    const stroke = this.strokes[this.strokes.length - 1];
    // Coalesced events carry the points the browser merged between frames: smoother fast strokes.
    const samples = event.getCoalescedEvents?.() ?? [];
    for (const sample of samples.length > 0 ? samples : [event]) stroke.push(this.toPad(sample));
    this.scheduleRedraw();
    this.changed("draw");
  }

  end(event) {
    if (event.pointerId !== this.pointerId) return;
    this.pointerId = null;
    this.changed("end");
  }

  changed(reason) {
    this.revision++;
    this.canvas.dataset.revision = String(this.revision);
    this.onChange(reason);
  }

  stopDrawing() {
    if (this.pointerId !== null && this.canvas.hasPointerCapture?.(this.pointerId)) {
      this.canvas.releasePointerCapture(this.pointerId);
    }
    this.pointerId = null;
  }

  scheduleRedraw() {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      this.redraw();
    });
  }
}

// The drawing pad: one pointer-event code path for mouse, finger and pen.
//
// Strokes are kept as data (points in pad units: both axes in units of the pad's height, so a square
// pad is 0..1 across and a wide one 0..width/height), not only as pixels, so Undo removes the last one,
// a resize or a high-DPI screen redraws them crisply, and `inkOf` re-renders some of them (one digit's)
// onto a fixed 280x280 offscreen canvas whose alpha channel is the ink: the same input to preprocessing
// on every screen, the digit fitted to the grid and its pen scaled to its size (grouping.js's
// fitGroup). Strokes are opaque on a transparent canvas; the pad's look is CSS. Leaves out what happens
// to the drawing (main.js), which strokes make a digit (grouping.js) and the 28x28 maths (preprocess.js).

import { alphaToInk } from "./preprocess.js";
import { fitGroup } from "./grouping.js";

export const INK_GRID = 280; // side of the working ink grid, whatever the screen
const STROKE_WIDTH = 0.1; // the visible pen: a tenth of the pad's height
const INK_COLOUR = "#10182b";

/** Paint `strokes` (arrays of [x, y]) scaled by `scale` px per unit with a pen `pen` units wide. */
function paintStrokes(context, strokes, scale, pen) {
  context.clearRect(0, 0, context.canvas.width, context.canvas.height);
  context.strokeStyle = INK_COLOUR;
  context.fillStyle = INK_COLOUR;
  context.lineWidth = pen * scale;
  context.lineCap = "round";
  context.lineJoin = "round";
  for (const points of strokes) {
    const [x0, y0] = points[0];
    if (points.length === 1) {
      // a tap: a round dot as wide as the pen (a zero-length line would draw nothing)
      context.beginPath();
      context.arc(x0 * scale, y0 * scale, context.lineWidth / 2, 0, 2 * Math.PI);
      context.fill();
      continue;
    }
    // Smooth curve: a quadratic segment through each point's midpoint with the next one.
    context.beginPath();
    context.moveTo(x0 * scale, y0 * scale);
    for (let i = 1; i < points.length - 1; i++) {
      const [x, y] = points[i];
      const [nx, ny] = points[i + 1];
      context.quadraticCurveTo(x * scale, y * scale, ((x + nx) / 2) * scale, ((y + ny) / 2) * scale);
    }
    const [xn, yn] = points[points.length - 1];
    context.lineTo(xn * scale, yn * scale);
    context.stroke();
  }
}

export class Pad {
  /**
   * @param {HTMLCanvasElement} canvas the visible pad (CSS decides its size: square, or wider for numbers)
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

  /** True while a pointer is drawing a stroke (its answer is not settled yet). */
  get isDrawing() {
    return this.pointerId !== null;
  }

  /** The pad's width in pad units (its height is 1). */
  get aspect() {
    const { width, height } = this.canvas.getBoundingClientRect();
    return height > 0 ? width / height : 1;
  }

  /** Add finished strokes (pad units), as if drawn: a sample digit picked from the keyboard. */
  addStrokes(strokes) {
    this.stopDrawing();
    this.strokes.push(...strokes);
    this.redraw();
    this.changed("end");
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

  /** The strokes at `indices` (one digit) as ink: { ink: Float32Array(INK_GRID * INK_GRID) in [0, 1], size: INK_GRID }. */
  inkOf(indices) {
    const { strokes, pen } = fitGroup(indices.map((i) => this.strokes[i]), INK_GRID);
    paintStrokes(this.inkContext, strokes, 1, pen);
    const { data } = this.inkContext.getImageData(0, 0, INK_GRID, INK_GRID);
    return { ink: alphaToInk(data), size: INK_GRID };
  }

  /** Match the backing store to the CSS size times the device pixel ratio, so lines stay crisp. */
  resize() {
    const { width, height } = this.canvas.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    const [w, h] = [Math.round(width * ratio), Math.round(height * ratio)];
    if (w > 0 && h > 0 && (w !== this.canvas.width || h !== this.canvas.height)) {
      this.canvas.width = w;
      this.canvas.height = h;
      this.redraw();
    }
  }

  redraw() {
    paintStrokes(this.context, this.strokes, this.canvas.height, STROKE_WIDTH);
  }

  /** Pad units (both axes in pad heights) of a pointer event. */
  toPad(event) {
    return [(event.clientX - this.bounds.left) / this.bounds.height, (event.clientY - this.bounds.top) / this.bounds.height];
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

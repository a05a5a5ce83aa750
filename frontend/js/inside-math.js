// Pure helpers for the "look inside" panel: grid layout of a layer's units, brightness of activations,
// the red/blue colours of evidence and weights, and the check of an /explain answer. No DOM, so Node
// tests them (tests/frontend/js/inside.test.mjs); inside.js draws with them.

export const SIDE = 28;
export const PIXELS = SIDE * SIDE;

/** Columns and rows of the near-square grid that holds n units, filled row by row. */
export function gridShape(n) {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`a layer needs at least one unit, got ${n}`);
  const cols = Math.ceil(Math.sqrt(n));
  return { cols, rows: Math.ceil(n / cols) };
}

/** The unit under a point (x, y) of a grid drawn with `cell`-sized cells, or -1 outside any unit. */
export function unitAt(n, cols, cell, x, y) {
  const col = Math.floor(x / cell);
  const row = Math.floor(y / cell);
  if (col < 0 || row < 0 || col >= cols) return -1;
  const index = row * cols + col;
  return index < n ? index : -1;
}

/** Brightness in [0, 1] per unit: the activation over the layer's largest (a blank layer stays dark). */
export function levels(values) {
  let top = 0;
  for (const v of values) if (v > top) top = v;
  return Array.from(values, (v) => (top > 0 ? Math.max(0, v) / top : 0));
}

/**
 * RGBA bytes (length 4n) for signed values: red where positive, blue where negative, the opacity
 * growing with |value| over the largest |value|; zero is fully transparent.
 */
export function signedRGBA(values, { alpha = 230 } = {}) {
  let top = 0;
  for (const v of values) top = Math.max(top, Math.abs(v));
  const out = new Uint8ClampedArray(values.length * 4);
  values.forEach((v, i) => {
    if (top === 0 || v === 0) return;
    const strength = Math.abs(v) / top;
    out.set(v > 0 ? [220, 38, 38] : [37, 99, 235], i * 4);
    out[i * 4 + 3] = Math.round(alpha * Math.sqrt(strength)); // sqrt: faint evidence stays visible
  });
  return out;
}

/** An /explain answer, checked; throws TypeError naming what is wrong. */
export function checkExplanation(body) {
  const numbers = (list, length) => Array.isArray(list) && (length === undefined || list.length === length) && list.every(Number.isFinite);
  const sizes = body?.layer_sizes;
  if (!numbers(sizes) || sizes.length < 2 || sizes[0] !== PIXELS) throw new TypeError("layer_sizes must start with 784 inputs");
  const layers = body.activations;
  if (!Array.isArray(layers) || layers.length !== sizes.length - 1 || !layers.every((layer, l) => numbers(layer, sizes[l + 1]))) {
    throw new TypeError("activations must hold one list per layer, as long as layer_sizes says");
  }
  if (!numbers(body.evidence, PIXELS)) throw new TypeError("evidence must hold 784 numbers");
  for (const key of ["digit", "runner_up", "member"]) if (!Number.isInteger(body[key])) throw new TypeError(`${key} must be an integer`);
  if (!Array.isArray(body.units) || !body.units.every((u) => Number.isInteger(u?.index) && numbers(u.weights, PIXELS))) {
    throw new TypeError("units must each have an index and 784 weights");
  }
  return body;
}

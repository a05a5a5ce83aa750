// Unit tests of frontend/js/preprocess.js under Node's built-in test runner (`node --test`).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  inkToMnist, inkBoundingBox, areaWeights, centreOfMass, roundHalfUp, alphaToInk,
  EmptyImageError, SIDE, BOX, CENTRE,
} from "../../../frontend/js/preprocess.js";

/** A height x width flat image with a filled rectangle [top, bottom) x [left, right) of `value`. */
function rectangle(height, width, top, bottom, left, right, value = 1) {
  const ink = new Float32Array(height * width);
  for (let y = top; y < bottom; y++) for (let x = left; x < right; x++) ink[y * width + x] = value;
  return ink;
}

/** Bounding box [top, bottom, left, right] (half-open) of the non-zero values in the 28x28 field. */
function fieldBox(field) {
  let top = SIDE, bottom = -1, left = SIDE, right = -1;
  for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) {
    if (field[y * SIDE + x] > 1e-9) {
      top = Math.min(top, y); bottom = Math.max(bottom, y);
      left = Math.min(left, x); right = Math.max(right, x);
    }
  }
  return [top, bottom + 1, left, right + 1];
}

test("an empty pad is reported, not turned into a digit", () => {
  assert.throws(() => inkToMnist(new Float32Array(100 * 100), 100, 100), EmptyImageError);
  // faint smudges below the threshold do not count as ink either
  assert.throws(() => inkToMnist(new Float32Array(50 * 50).fill(0.05), 50, 50), EmptyImageError);
});

test("malformed input is refused with a clear error", () => {
  assert.throws(() => inkToMnist(new Float32Array(10), 3, 3), /expected 9 values/);
  assert.throws(() => inkToMnist([], 0, 0), /2-D image/);
  const bad = rectangle(10, 10, 2, 8, 2, 8);
  bad[0] = NaN;
  assert.throws(() => inkToMnist(bad, 10, 10), /NaN/);
});

test("the bounding box is half-open around ink above the threshold", () => {
  const ink = Array.from(rectangle(40, 60, 5, 12, 30, 41));
  ink[0] = 0.1; // exactly at the threshold: not ink
  assert.deepEqual(inkBoundingBox(ink, 40, 60), [5, 12, 30, 41]);
});

test("the longer side is scaled to 20 px and the result is 784 values in [0, 1]", () => {
  const field = inkToMnist(rectangle(200, 200, 20, 120, 60, 110, 1.7), 200, 200); // over-bright ink is clipped
  assert.equal(field.length, SIDE * SIDE);
  assert.ok(field.every((v) => v >= 0 && v <= 1));
  const [top, bottom, left, right] = fieldBox(field);
  assert.equal(bottom - top, BOX); // 100 tall -> 20
  assert.equal(right - left, 10); // 50 wide -> 10: aspect ratio kept
});

test("a thin '1' keeps its aspect ratio instead of being stretched into a blob", () => {
  const field = inkToMnist(rectangle(280, 280, 30, 250, 130, 152), 280, 280); // 220 tall, 22 wide
  const [top, bottom, left, right] = fieldBox(field);
  assert.equal(bottom - top, BOX);
  assert.equal(right - left, 2);
});

test("the digit is centred by its centre of mass wherever it was drawn", () => {
  for (const [top, left] of [[0, 0], [0, 230], [230, 0], [240, 250], [100, 100]]) {
    const field = inkToMnist(rectangle(300, 300, top, top + 50, left, left + 30), 300, 300);
    const [cy, cx] = centreOfMass(field, SIDE, SIDE);
    assert.ok(Math.abs(cy - CENTRE) <= 0.5, `row centre ${cy} for a digit at ${top},${left}`);
    assert.ok(Math.abs(cx - CENTRE) <= 0.5, `column centre ${cx} for a digit at ${top},${left}`);
  }
});

test("a lopsided digit is placed by its centre of mass, not by its box", () => {
  const ink = rectangle(100, 100, 10, 90, 10, 90, 0.2);
  for (let y = 10; y < 90; y++) for (let x = 80; x < 90; x++) ink[y * 100 + x] = 1; // heavy right edge
  const field = inkToMnist(ink, 100, 100);
  const [, , left, right] = fieldBox(field);
  assert.equal(right - left, BOX);
  assert.equal(left, 2); // centring the box would put it at column 4; the mass pulls it left
  const [, cx] = centreOfMass(field, SIDE, SIDE);
  assert.ok(Math.abs(cx - CENTRE) <= 0.5, `column centre ${cx}`);
});

test("a digit whose mass is far off its box's centre is clamped inside the field", () => {
  const ink = rectangle(100, 100, 10, 90, 80, 90); // heavy bar on the right...
  ink[50 * 100 + 10] = 1; // ...and one speck far to the left widens the box to 80 px
  const field = inkToMnist(ink, 100, 100);
  const [, , left, right] = fieldBox(field);
  assert.deepEqual([left, right], [0, BOX]); // the mass wants column -4; the clamp stops it at 0
});

test("a single dot becomes a 20x20 square (the longer side is always 20)", () => {
  const field = inkToMnist(rectangle(50, 50, 10, 11, 10, 11), 50, 50);
  const [top, bottom, left, right] = fieldBox(field);
  assert.deepEqual([bottom - top, right - left], [BOX, BOX]);
});

test("area-averaging weights: each output row sums to 1 and fractional pixels are shared", () => {
  const weights = areaWeights(3, 2); // 1.5 input pixels per output pixel
  assert.deepEqual(Array.from(weights).map((w) => +w.toFixed(6)), [0.666667, 0.333333, 0, 0, 0.333333, 0.666667]);
  const big = areaWeights(280, 20);
  for (let i = 0; i < 20; i++) {
    let sum = 0;
    for (let k = 0; k < 280; k++) sum += big[i * 280 + k];
    assert.ok(Math.abs(sum - 1) < 1e-12);
  }
});

test("area averaging keeps grey levels: a half-covered output pixel is half grey", () => {
  const ink = rectangle(40, 40, 0, 40, 0, 1);
  for (let y = 0; y < 40; y++) ink[y * 40 + 39] = 1; // two 1 px lines 40 px apart: a 40x40 box
  const field = inkToMnist(ink, 40, 40); // scaled by 1/2: each output pixel averages 2x2 inputs
  const values = Array.from(field).filter((v) => v > 0);
  assert.equal(values.length, 2 * BOX);
  assert.ok(values.every((v) => Math.abs(v - 0.5) < 1e-6));
});

test("round half up matches Python's floor(x + 0.5), not banker's rounding", () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999].map(roundHalfUp), [1, 2, 3, 0, -1, 2]);
});

test("alpha bytes become ink in [0, 1]", () => {
  const rgba = new Uint8ClampedArray([10, 20, 30, 0, 0, 0, 0, 255, 9, 9, 9, 51]);
  assert.deepEqual(Array.from(alphaToInk(rgba)).map((v) => +v.toFixed(3)), [0, 1, 0.2]);
});

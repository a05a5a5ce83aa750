// Unit tests of frontend/js/grouping.js (which strokes make which digit) and samples.js, under Node.
import { test } from "node:test";
import assert from "node:assert/strict";
import { groupStrokes, fitGroup, boundsOf, FILL, PEN_PER_EXTENT, MIN_PEN } from "../../../frontend/js/grouping.js";
import { SAMPLES, placeSample } from "../../../frontend/js/samples.js";

const line = (x0, y0, x1, y1, n = 10) => Array.from({ length: n + 1 }, (_, i) => [x0 + ((x1 - x0) * i) / n, y0 + ((y1 - y0) * i) / n]);
/** A digit's strokes (unit box) placed at left, top with the given size. */
const at = (strokes, left, top, width, height) => strokes.map((s) => s.map(([x, y]) => [left + x * width, top + y * height]));

test("digits written side by side are separate groups, left to right", () => {
  const two = at(SAMPLES[2], 0.1, 0.3, 0.2, 0.35);
  const zero = at(SAMPLES[0], 0.36, 0.25, 0.2, 0.35); // baseline drifts up a little
  const six = at(SAMPLES[6], 0.62, 0.32, 0.2, 0.35);
  assert.deepEqual(groupStrokes([...two, ...zero, ...six]), [[0], [1], [2]]);
});

test("the strokes of one digit stay together: a 4's stem, a 5's flag, a 7's bar", () => {
  const four = at(SAMPLES[4], 0.1, 0.3, 0.2, 0.35); // two strokes
  const five = at(SAMPLES[5], 0.38, 0.3, 0.2, 0.35); // two strokes
  const seven = [line(0.7, 0.3, 0.66, 0.65), line(0.62, 0.45, 0.74, 0.45)]; // stem, then a crossing bar
  assert.deepEqual(groupStrokes([...four, ...five, ...seven]), [[0, 1], [2, 3], [4, 5]]);
});

test("strokes are grouped by where they are, not when they were drawn", () => {
  const [fourCorner, fourStem] = at(SAMPLES[4], 0.5, 0.3, 0.2, 0.35);
  const one = at(SAMPLES[1], 0.15, 0.3, 0.1, 0.35);
  // the 4's corner, then the 1 to its left, then the 4's stem: [1] comes first, the 4 is strokes 0 and 2
  assert.deepEqual(groupStrokes([fourCorner, ...one, fourStem]), [[1], [0, 2]]);
});

test("nearly touching digits stay apart; a vertical 1 beside another digit is its own", () => {
  const one = [line(0.2, 0.3, 0.2, 0.7)];
  const three = at(SAMPLES[3], 0.24, 0.3, 0.2, 0.4); // starts 0.04 right of the 1
  assert.deepEqual(groupStrokes([...one, ...three]), [[0], [1]]);
});

test("one big digit in several strokes is one group", () => {
  assert.deepEqual(groupStrokes(at(SAMPLES[4], 0.2, 0.1, 0.6, 0.8)), [[0, 1]]);
  assert.deepEqual(groupStrokes([]), []);
});

test("fitGroup centres a group in the grid with its longer side FILL of it and the pen scaled alike", () => {
  const strokes = [line(0.5, 0.2, 0.6, 0.4)]; // 0.1 wide, 0.2 tall
  const { strokes: placed, pen } = fitGroup(strokes, 280);
  const [left, top, right, bottom] = boundsOf(placed);
  assert.ok(Math.abs(bottom - top - FILL * 280) < 1e-9);
  assert.ok(Math.abs(right - left - FILL * 140) < 1e-9);
  assert.ok(Math.abs((left + right) / 2 - 140) < 1e-9 && Math.abs((top + bottom) / 2 - 140) < 1e-9);
  assert.ok(Math.abs(pen - Math.max(MIN_PEN, PEN_PER_EXTENT * 0.2) * (FILL * 280) / 0.2) < 1e-9);
  // the same digit written anywhere and at any size is framed the same
  const moved = fitGroup([line(2.0, 0.6, 2.3, 1.2)], 280);
  assert.ok(moved.strokes[0].every(([x, y], i) => Math.abs(x - placed[0][i][0]) < 1e-6 && Math.abs(y - placed[0][i][1]) < 1e-6));
});

test("a tap (one point) is framed as a dot in the middle", () => {
  const { strokes, pen } = fitGroup([[[0.3, 0.3]]], 280);
  assert.deepEqual(strokes, [[[140, 140]]]);
  assert.ok(pen > 0);
});

test("every sample digit is strokes of points inside its box", () => {
  for (let digit = 0; digit <= 9; digit++) {
    const placed = placeSample(digit, 1.0, 0.25, 0.5);
    const [left, top, right, bottom] = boundsOf(placed);
    assert.ok(left >= 1.0 - 1e-9 && right <= 1.0 + 0.3 + 1e-9, `sample ${digit} columns ${left}..${right}`);
    assert.ok(top >= 0.25 - 0.03 && bottom <= 0.75 + 0.03, `sample ${digit} rows ${top}..${bottom}`);
    assert.equal(groupStrokes(placed).length, 1, `sample ${digit} is one digit`);
  }
});

test("a thin 1 written against its neighbour's edge is its own digit, on either side", () => {
  const three = at(SAMPLES[3], 0.3, 0.3, 0.2, 0.4);
  const oneRight = at(SAMPLES[1], 0.445, 0.3, 0.05, 0.4); // its columns end on the 3's right edge (0.472)
  const oneLeft = at(SAMPLES[1], 0.3, 0.3, 0.05, 0.4); // its columns start on the 3's left edge (0.32)
  assert.deepEqual(groupStrokes([...three, ...oneRight]), [[0], [1]]);
  assert.deepEqual(groupStrokes([...oneLeft, ...three]), [[0], [1]]);
});

test("a bar well inside a digit's columns, or much taller than it, still joins it", () => {
  const four = [line(0.1, 0.3, 0.1, 0.55), line(0.1, 0.55, 0.3, 0.55), line(0.25, 0.3, 0.25, 0.7)]; // an open 4: stem 25% in from the right
  const one = [line(0.52, 0.36, 0.56, 0.3), line(0.56, 0.3, 0.56, 0.7)]; // a 1's flag, then its stem at the flag's edge
  assert.deepEqual(groupStrokes([...four, ...one]), [[0, 1, 2], [3, 4]]);
});

/** Strokes scaled by `factor` about the pad's corner: the same writing, smaller or larger. */
const scaled = (strokes, factor) => strokes.map((s) => s.map(([x, y]) => [x * factor, y * factor]));

test("a number written small is grouped as it is written large: a leaning 1 close to a 3 stays apart", () => {
  const three = at(SAMPLES[3], 0.1, 0.3, 0.2, 0.4); // its ink ends at x = 0.272
  const one = [line(0.31, 0.3, 0.285, 0.7)]; // leaning, too wide to count as a thin bar; 0.013 right of the 3
  const large = [...three, ...one];
  assert.deepEqual(groupStrokes(large), [[0], [1]]);
  for (const factor of [0.5, 0.25]) {
    assert.deepEqual(groupStrokes(scaled(large, factor)), [[0], [1]], `written ${factor} as large`);
  }
});

test("a 5's flag written apart and pushed right of its body by slanted writing joins its body", () => {
  const body = [line(0.2, 0.3, 0.16, 0.45), ...at([SAMPLES[5][0].slice(2)], 0.1, 0.3, 0.2, 0.35)];
  const flag = [line(0.27, 0.3, 0.45, 0.29)]; // shares under 40% of its columns with the body
  const seven = at(SAMPLES[7], 0.6, 0.3, 0.2, 0.35);
  assert.deepEqual(groupStrokes([...body, ...flag, ...seven]), [[0, 1, 2], [3]]);
});

test("a flat mark under or over no digit stays a group of its own", () => {
  const two = at(SAMPLES[2], 0.1, 0.3, 0.2, 0.35);
  const dash = [line(0.4, 0.48, 0.5, 0.48)];
  const six = at(SAMPLES[6], 0.6, 0.3, 0.2, 0.35);
  assert.deepEqual(groupStrokes([...two, ...dash, ...six]), [[0], [1], [2]]);
});

// thinStrokes: the strokes sent with a correction fit the server's bounds (schemas.py) and keep their ends.
import { test } from "node:test";
import assert from "node:assert/strict";

import { thinStrokes } from "../../../frontend/js/feedback.js";

const line = (n) => Array.from({ length: n }, (_, i) => [i / (n - 1), 0.5]);

test("a short stroke is kept point for point, rounded to 4 decimals", () => {
  assert.deepEqual(thinStrokes([[[0.123456, 0.5], [0.2, 0.987654]]]), [[[0.1235, 0.5], [0.2, 0.9877]]]);
});

test("a long stroke is thinned to at most 256 points, first and last kept", () => {
  for (const n of [257, 1000, 5000]) {
    const [thinned] = thinStrokes([line(n)]);
    assert.ok(thinned.length <= 256 && thinned.length >= 200, `${n} points -> ${thinned.length}`);
    assert.deepEqual(thinned[0], [0, 0.5]);
    assert.deepEqual(thinned[thinned.length - 1], [1, 0.5]);
    for (let i = 1; i < thinned.length; i++) assert.ok(thinned[i][0] >= thinned[i - 1][0], "order kept");
  }
});

test("more strokes than the server takes, or none: no strokes are sent", () => {
  assert.equal(thinStrokes(Array.from({ length: 33 }, () => [[0, 0]])), null);
  assert.equal(thinStrokes([]), null);
  assert.equal(thinStrokes(Array.from({ length: 32 }, () => [[0, 0]])).length, 32);
});

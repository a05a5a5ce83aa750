// Unit tests of frontend/js/inside-math.js (the look-inside panel's pure helpers) under Node's test runner.
import { test } from "node:test";
import assert from "node:assert/strict";
import { gridShape, unitAt, levels, signedRGBA, checkExplanation } from "../../../frontend/js/inside-math.js";

test("a layer's grid is near square and holds every unit", () => {
  assert.deepEqual(gridShape(800), { cols: 29, rows: 28 });
  assert.deepEqual(gridShape(30), { cols: 6, rows: 5 });
  assert.deepEqual(gridShape(10), { cols: 4, rows: 3 });
  assert.deepEqual(gridShape(1), { cols: 1, rows: 1 });
  assert.throws(() => gridShape(0), /at least one unit, got 0/);
});

test("a point finds the unit under it, and nothing past the last unit or outside", () => {
  assert.equal(unitAt(30, 6, 10, 0, 0), 0);
  assert.equal(unitAt(30, 6, 10, 59, 9), 5);
  assert.equal(unitAt(30, 6, 10, 5, 15), 6);
  assert.equal(unitAt(30, 6, 10, 55, 45), 29);
  assert.equal(unitAt(28, 6, 10, 55, 45), -1); // the grid's last row is not full
  assert.equal(unitAt(30, 6, 10, 65, 5), -1);
  assert.equal(unitAt(30, 6, 10, -1, 5), -1);
});

test("brightness is the activation over the layer's largest; a silent layer is dark", () => {
  assert.deepEqual(levels([0, 1, 4, 2]), [0, 0.25, 1, 0.5]);
  assert.deepEqual(levels([0, 0, 0]), [0, 0, 0]);
  assert.deepEqual(levels(new Float32Array([-1, 2])), [0, 1]); // a leaky ReLU's negative values are shown dark
});

test("signed values become red (for) and blue (against), stronger where larger, clear at zero", () => {
  const rgba = signedRGBA([2, -1, 0, -2]);
  assert.deepEqual([...rgba.slice(0, 4)], [220, 38, 38, 230]);
  assert.deepEqual([...rgba.slice(4, 7)], [37, 99, 235]);
  assert.ok(rgba[7] > 0 && rgba[7] < 230);
  assert.equal(rgba[11], 0);
  assert.equal(rgba[15], 230);
  assert.deepEqual([...signedRGBA([0, 0])], new Array(8).fill(0));
});

const valid = () => ({
  digit: 3,
  runner_up: 8,
  member: 0,
  layer_sizes: [784, 2, 10],
  activations: [[0.5, 0], new Array(10).fill(0.1)],
  evidence: new Array(784).fill(0),
  units: [{ index: 1, weights: new Array(784).fill(0.01) }],
});

test("an /explain answer with the promised shapes passes the check", () => {
  const body = valid();
  assert.equal(checkExplanation(body), body);
});

test("an /explain answer with a wrong shape is refused, naming the field", () => {
  const short = valid();
  short.activations[0] = [0.5];
  assert.throws(() => checkExplanation(short), /activations must hold one list per layer/);
  const evidence = valid();
  evidence.evidence = [1, 2];
  assert.throws(() => checkExplanation(evidence), /evidence must hold 784 numbers/);
  const member = valid();
  member.member = "0";
  assert.throws(() => checkExplanation(member), /member must be an integer/);
  assert.throws(() => checkExplanation(null), /layer_sizes/);
  const units = valid();
  units.units = [{ index: 1, weights: [] }];
  assert.throws(() => checkExplanation(units), /units must each have/);
});

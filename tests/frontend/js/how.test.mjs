// Unit tests of frontend/js/how-math.js (the "how it learned" page's pure helpers) under Node's test runner.
import { test } from "node:test";
import assert from "node:assert/strict";
import { linearScale, pathData, ticks, curve, decodePixels, percent, memberOrigins, epochsPerMember, longestRecord } from "../../../frontend/js/how-math.js";

test("a linear scale maps the ends of the domain onto the ends of the range, flipped if asked", () => {
  const s = linearScale(1, 11, 300, 100);
  assert.equal(s(1), 300);
  assert.equal(s(11), 100);
  assert.equal(s(6), 200);
  assert.equal(linearScale(5, 5, 0, 10)(5), 5); // a single epoch sits in the middle
});

test("path data goes through every point in order", () => {
  const identity = (v) => v;
  assert.equal(pathData([0, 1, 2], [5, 4, 3], identity, identity), "M0.00 5.00 L1.00 4.00 L2.00 3.00");
  assert.equal(pathData([], [], identity, identity), "");
});

test("ticks are round numbers inside the range", () => {
  assert.deepEqual(ticks(0, 30), [0, 10, 20, 30]);
  assert.deepEqual(ticks(0.95, 1), [0.95, 0.96, 0.97, 0.98, 0.99, 1]);
  assert.deepEqual(ticks(0.902, 0.983), [0.92, 0.94, 0.96, 0.98]);
  assert.deepEqual(ticks(1, 15), [5, 10, 15]);
  assert.deepEqual(ticks(2, 2), [2]);
});

test("a curve is one member's epochs in order", () => {
  const history = [
    { member: 0, epoch: 2, train_loss: 0.5, validation_loss: 0.6 },
    { member: 1, epoch: 1, train_loss: 9, validation_loss: 9 },
    { member: 0, epoch: 1, train_loss: 1.0, validation_loss: 0.9 },
  ];
  assert.deepEqual(curve(history, "loss"), { epochs: [1, 2], train: [1.0, 0.5], validation: [0.9, 0.6] });
  assert.deepEqual(curve(history, "loss", 1).epochs, [1]);
});

test("a gallery picture decodes to 784 levels in [0, 1]; a short one is refused", () => {
  const bytes = new Uint8Array(784);
  bytes[0] = 255;
  bytes[1] = 51;
  const pixels = decodePixels(Buffer.from(bytes).toString("base64"));
  assert.equal(pixels.length, 784);
  assert.deepEqual(pixels.slice(0, 3), [1, 0.2, 0]);
  assert.throws(() => decodePixels(Buffer.from([1, 2]).toString("base64")), /784 bytes, got 2/);
});

test("fractions print as the card's percentages", () => {
  assert.equal(percent(0.9947), "99.47%");
  assert.equal(percent(0.96175, 1), "96.2%");
});

test("each member of a mixed ensemble gets one line: its seed, epochs and rate, what it started from and saw", () => {
  const tuned = { seed: 11, epochs: 8, learning_rate: 0.001, parent: { model_id: "mlp-0123456789ab", epochs: 250 }, drawn_digits: true, number_pieces: false };
  const joint = { seed: 22, epochs: 200, learning_rate: 0.05, parent: null, drawn_digits: true, number_pieces: true };
  const plain = { seed: 3, epochs: 30, parent: null, drawn_digits: false, number_pieces: false };
  assert.deepEqual(memberOrigins([tuned, joint, plain]), [
    "seed 11: 250 epochs (mlp-0123456789ab), then 8 fine-tuned at η = 0.001 with drawn digits",
    "seed 22: 200 epochs at η = 0.05 with drawn digits and number pieces",
    "seed 3: 30 epochs",
  ]);
});

test("the members with a curve are listed once each, in order, with their epochs; the longest record is found", () => {
  const history = [2, 0, 2, 0, 1].map((member, i) => ({ member, epoch: i + 1 }));
  assert.deepEqual([...epochsPerMember(history).keys()], [0, 1, 2]);
  assert.deepEqual([...epochsPerMember([]).keys()], []);
  assert.deepEqual([...epochsPerMember(history).values()], [2, 1, 2]);
  assert.equal(longestRecord(epochsPerMember(history)), 0); // the first of equals
  assert.equal(longestRecord(epochsPerMember([...history, { member: 2, epoch: 6 }])), 2);
});

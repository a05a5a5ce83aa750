// Unit tests of how frontend/js/api.js reads "is_digit" from /predict, under Node's test runner.
import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "../../../frontend/js/api.js";

const PIXELS = new Float32Array(784);
const probabilities = Array.from({ length: 10 }, (_, d) => (d === 4 ? 0.55 : 0.05));
const jsonResponse = (body, status = 200) => ({ ok: status < 400, status, json: async () => body });

let calls;
beforeEach(() => {
  calls = [];
  globalThis.fetch = (url, options) => new Promise((resolve, reject) => calls.push({ url, options, resolve, reject }));
});

test("is_digit false is passed on as isDigit false, with the best guess", async () => {
  const pending = createClient().predict(PIXELS);
  calls[0].resolve(jsonResponse({ digit: 4, confidence: 0.55, probabilities, is_digit: false }));
  const result = await pending;
  assert.equal(result.isDigit, false);
  assert.equal(result.digit, 4);
});

test("is_digit true, or a server that does not send it, is a digit", async () => {
  const api = createClient();
  const first = api.predict(PIXELS);
  calls[0].resolve(jsonResponse({ digit: 4, confidence: 0.55, probabilities, is_digit: true }));
  assert.equal((await first).isDigit, true);
  const second = api.predict(PIXELS);
  calls[1].resolve(jsonResponse({ digit: 4, confidence: 0.55, probabilities }));
  assert.equal((await second).isDigit, true);
});

test("an is_digit that is not a boolean is refused", async () => {
  const pending = createClient().predict(PIXELS);
  calls[0].resolve(jsonResponse({ digit: 4, confidence: 0.55, probabilities, is_digit: "no" }));
  await assert.rejects(pending, /unexpected answer/);
});

// Unit tests of frontend/js/api.js under Node's test runner, with a fake fetch the test controls.
import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { createClient, ApiError } from "../../../frontend/js/api.js";

const PIXELS = new Float32Array(784);
const answer = (digit) => ({ digit, confidence: 0.9, probabilities: Array.from({ length: 10 }, (_, d) => (d === digit ? 0.9 : 0.1 / 9)) });
const jsonResponse = (body, status = 200) => ({ ok: status < 400, status, json: async () => body });

let calls;
beforeEach(() => {
  calls = [];
  // Each call waits until the test resolves it, and ignores aborts: the worst case for the stale guard.
  globalThis.fetch = (url, options) =>
    new Promise((resolve, reject) => calls.push({ url, options, resolve, reject }));
});

test("an answer that arrives after a newer request is dropped, the newer one is shown", async () => {
  const api = createClient();
  const old = api.predict(PIXELS);
  const fresh = api.predict(PIXELS);
  assert.equal(calls.length, 2);
  assert.equal(calls[0].options.signal.aborted, true); // the old request is cancelled...
  calls[1].resolve(jsonResponse(answer(7)));
  calls[0].resolve(jsonResponse(answer(1))); // ...and even if its answer still comes, later
  assert.deepEqual(await fresh, { ...answer(7), isDigit: true });
  assert.equal(await old, null);
});

test("cancel makes the answer in flight stale", async () => {
  const api = createClient();
  const pending = api.predict(PIXELS);
  api.cancel();
  calls[0].resolve(jsonResponse(answer(3)));
  assert.equal(await pending, null);
});

test("predict posts the 784 pixels as JSON to the same origin", async () => {
  const api = createClient();
  const pending = api.predict(PIXELS);
  calls[0].resolve(jsonResponse(answer(5)));
  await pending;
  assert.equal(calls[0].url, "predict"); // relative: the page's own origin
  assert.equal(calls[0].options.method, "POST");
  assert.equal(JSON.parse(calls[0].options.body).pixels.length, 784);
});

test("a 422 says what the server refused, and is not retried", async () => {
  const api = createClient();
  const pending = api.predict(PIXELS);
  calls[0].resolve(jsonResponse({ detail: [{ msg: "expected exactly 784 numbers" }] }, 422));
  await assert.rejects(pending, (error) => error instanceof ApiError && /784 numbers/.test(error.message) && !error.retryable);
});

test("an unreachable or failing server is reported as retryable", async () => {
  const api = createClient();
  const unreachable = api.predict(PIXELS);
  calls[0].reject(new TypeError("Failed to fetch"));
  await assert.rejects(unreachable, (error) => error instanceof ApiError && /reach the server/.test(error.message) && error.retryable);
  const failing = api.predict(PIXELS);
  calls[1].resolve(jsonResponse({ detail: "boom" }, 503));
  await assert.rejects(failing, (error) => /HTTP 503/.test(error.message) && error.retryable);
});

test("an answer of the wrong shape is refused", async () => {
  const api = createClient();
  const pending = api.predict(PIXELS);
  calls[0].resolve(jsonResponse({ digit: 12, confidence: 1, probabilities: [1] }));
  await assert.rejects(pending, /unexpected answer/);
});

test("a server that never answers times out", { timeout: 20_000 }, async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const api = createClient();
  const pending = api.predict(PIXELS);
  const { signal } = calls[0].options;
  signal.addEventListener("abort", () => calls[0].reject(new DOMException("aborted", "AbortError")));
  t.mock.timers.tick(8000);
  await assert.rejects(pending, (error) => /did not answer in time/.test(error.message) && error.retryable);
});

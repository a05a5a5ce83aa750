// Unit tests of the model menu (frontend/js/models.js) and the client's model choice (api.js), with fakes.
import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "../../../frontend/js/api.js";
import { offerModels } from "../../../frontend/js/models.js";

const jsonResponse = (body, status = 200) => ({ ok: status < 400, status, json: async () => body });
const answer = { digit: 7, confidence: 0.9, probabilities: Array.from({ length: 10 }, (_, d) => (d === 7 ? 0.9 : 0.1 / 9)) };

let urls;
let reply;
beforeEach(() => {
  urls = [];
  reply = () => jsonResponse(answer);
  globalThis.fetch = async (url) => {
    urls.push(url);
    return reply(url);
  };
});

function fakeSelect() {
  const listeners = {};
  return {
    value: "",
    children: [],
    ownerDocument: { createElement: () => ({ value: "", textContent: "" }) },
    replaceChildren(...options) { this.children = options; },
    addEventListener(type, listener) { listeners[type] = listener; },
    choose(value) { this.value = value; listeners.change(); },
  };
}

test("a chosen model is asked for on predict and on the model card; the default sends no parameter", async () => {
  const api = createClient();
  await api.predict(new Float32Array(784));
  api.useModel("classic");
  await api.predict(new Float32Array(784));
  reply = () => jsonResponse({ name: "classic" });
  await api.getModel();
  assert.deepEqual(urls, ["predict", "predict?model=classic", "model?model=classic"]);
});

test("choosing a model drops the answer still in flight for the previous one", async () => {
  let release;
  globalThis.fetch = (url) => new Promise((resolve) => { urls.push(url); release = () => resolve(jsonResponse(answer)); });
  const api = createClient();
  const pending = api.predict(new Float32Array(784));
  api.useModel("fast");
  release();
  assert.equal(await pending, null);
});

test("the menu lists the models and reports a choice; one model leaves it hidden", async () => {
  reply = () => jsonResponse([{ name: "mnist", version: "mlp-1" }, { name: "classic", version: "mlp-2" }]);
  const select = fakeSelect();
  const container = { hidden: true };
  const chosen = [];
  await offerModels(select, container, createClient(), (name) => chosen.push(name));
  assert.deepEqual(select.children.map((option) => option.textContent), ["mnist", "classic"]);
  assert.equal(container.hidden, false);
  select.choose("classic");
  assert.deepEqual(chosen, ["classic"]);

  reply = () => jsonResponse([{ name: "mnist", version: "mlp-1" }]);
  const alone = { hidden: true };
  await offerModels(fakeSelect(), alone, createClient(), () => {});
  assert.equal(alone.hidden, true);
});

test("a model list that fails or is malformed leaves the menu hidden", async () => {
  for (const bad of [() => jsonResponse({ detail: "nope" }, 500), () => jsonResponse({ models: [] })]) {
    reply = bad;
    const container = { hidden: true };
    await offerModels(fakeSelect(), container, createClient(), () => {});
    assert.equal(container.hidden, true);
  }
  reply = () => jsonResponse([{ version: "x" }]);
  await assert.rejects(createClient().listModels(), /unexpected model list/);
});

// Wiring: pad changes -> (debounced) preprocessing -> /predict -> view (then the look-inside panel); buttons, keys, model panel.
//
// Predictions are live while drawing: a change waits DEBOUNCE_MS for the next one, but never more
// than MAX_WAIT_MS, so a long stroke still updates. An empty pad sends nothing. When the server
// cannot be reached the request is retried every RETRY_MS until it answers or the drawing changes.

import { Pad } from "./pad.js";
import { inkToMnist, EmptyImageError } from "./preprocess.js";
import { createClient } from "./api.js";
import { createView } from "./view.js";
import { createInside } from "./inside.js";
import { offerModels } from "./models.js";
import { createFeedback } from "./feedback.js";

const DEBOUNCE_MS = 120;
const MAX_WAIT_MS = 350;
const RETRY_MS = 2500;

const view = createView(document);
const api = createClient();
const inside = createInside(document); // asks /explain only while its panel is open, newest drawing wins
const feedback = createFeedback(document);
let debounceTimer = null;
let firstPendingAt = null; // when the oldest change not yet sent happened
let retryTimer = null;
let modelShown = false;

const pad = new Pad(document.getElementById("pad"), (reason) => {
  clearTimeout(retryTimer);
  feedback.drawingChanged();
  if (pad.isEmpty) {
    feedback.withdraw();
    schedule(0);
    return;
  }
  view.showDrawing();
  schedule(reason === "draw" ? DEBOUNCE_MS : 0);
});

function schedule(delay) {
  const now = performance.now();
  firstPendingAt ??= now;
  const wait = Math.max(0, Math.min(delay, firstPendingAt + MAX_WAIT_MS - now));
  clearTimeout(debounceTimer);
  debounceTimer = setTimeout(recognise, wait);
}

async function recognise() {
  firstPendingAt = null;
  clearTimeout(retryTimer);
  const revision = pad.revision;
  if (pad.isEmpty) {
    api.cancel(); // an answer for the old drawing must not appear on the empty pad
    inside.clear();
    view.showEmpty(revision);
    return;
  }
  let pixels;
  try {
    const { ink, size } = pad.inkGrid();
    pixels = inkToMnist(ink, size, size);
  } catch (error) {
    api.cancel();
    if (error instanceof EmptyImageError) {
      inside.clear();
      view.showEmpty(revision); // strokes entirely off the pad leave no ink
    } else {
      console.error(error); // a bug, not the user's doing: say so briefly on the page, details here
      view.showError("Could not read the drawing; please clear the pad and try again.");
    }
    return;
  }
  view.showPreview(pixels);
  view.showPending();
  try {
    const result = await api.predict(pixels);
    if (result === null) return; // superseded by a newer drawing
    view.showResult(result, revision);
    inside.show(pixels); // after the answer, so that looking inside never delays it
    feedback.offer({ pixels, strokes: pad.strokes, predicted: result.digit });
    if (!modelShown) loadModel();
  } catch (error) {
    view.showError(error.message);
    if (error.retryable) retryTimer = setTimeout(recognise, RETRY_MS);
  }
}

async function loadModel() {
  try {
    const card = await api.getModel();
    view.showModel(card);
    feedback.setModelId(card.model_id);
    modelShown = true;
  } catch {
    view.showModelMissing(); // tried again after the next answer from the server
  }
}

document.getElementById("undo").addEventListener("click", () => pad.undo());
document.getElementById("clear").addEventListener("click", () => pad.clear());
document.addEventListener("keydown", (event) => {
  const target = event.target;
  if (target instanceof HTMLElement && target.closest("input, textarea, select, [contenteditable]")) return;
  if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "z") {
    event.preventDefault();
    pad.undo();
  } else if (event.key === "Escape" || event.key === "Delete") {
    event.preventDefault();
    pad.clear();
  }
});

view.showEmpty(pad.revision);
loadModel();
offerModels(document.getElementById("model-select"), document.getElementById("model-choice"), api, (name) => {
  api.useModel(name);
  modelShown = false;
  loadModel();
  if (!pad.isEmpty) schedule(0); // the same drawing, read by the other model
});

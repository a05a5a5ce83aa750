// Wiring: pad changes -> (debounced) grouping and preprocessing -> /predict (one digit) or one
// /predict/batch (a number) -> views (then the look-inside panel); buttons, keys, sample digits, model panel.
//
// Predictions are live while drawing: a change waits DEBOUNCE_MS for the next one, but never more
// than MAX_WAIT_MS, so a long stroke still updates. Screen readers hear only settled answers (when no
// stroke is being drawn), and Clear and Undo. An empty pad sends nothing. When the server cannot be
// reached the request is retried every RETRY_MS until it answers or the drawing changes.

import { Pad } from "./pad.js";
import { inkToMnist, EmptyImageError } from "./preprocess.js";
import { createClient } from "./api.js";
import { createView } from "./view.js";
import { createInside } from "./inside.js";
import { offerModels } from "./models.js";
import { createFeedback } from "./feedback.js";
import { boundsOf, groupStrokes } from "./grouping.js";
import { createNumberView, numberText } from "./number-view.js";
import { placeSample } from "./samples.js";

const DEBOUNCE_MS = 120;
const MAX_WAIT_MS = 350;
const RETRY_MS = 2500;

const view = createView(document);
const numberView = createNumberView(document);
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
  if (reason === "clear") view.announce("Pad cleared.");
  if (reason === "undo") view.announce("Last stroke undone.");
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
  const settled = !pad.isDrawing;
  if (pad.isEmpty) {
    api.cancel(); // an answer for the old drawing must not appear on the empty pad
    inside.clear();
    view.showEmpty(revision);
    numberView.showEmpty(revision);
    return;
  }
  let groups;
  let images;
  try {
    groups = groupStrokes(pad.strokes);
    images = groups.map((group) => {
      const { ink, size } = pad.inkOf(group);
      return inkToMnist(ink, size, size);
    });
  } catch (error) {
    api.cancel();
    if (error instanceof EmptyImageError) {
      inside.clear();
      view.showEmpty(revision); // strokes entirely off the pad leave no ink
      numberView.showEmpty(revision);
    } else {
      console.error(error); // a bug, not the user's doing: say so briefly on the page, details here
      view.showError("Could not read the drawing; please clear the pad and try again.");
    }
    return;
  }
  // the single-digit panel (big answer, bars, preview) follows the digit written last
  const last = pad.strokes.length - 1;
  const focus = Math.max(0, groups.findIndex((group) => group.includes(last)));
  view.showPreview(images[focus]);
  view.showPending();
  try {
    const results = groups.length === 1 ? [await api.predict(images[0])] : await api.predictBatch(images);
    if (results === null || results[0] === null) return; // superseded by a newer drawing
    numberView.showNumber(results, images, revision);
    view.showResult(results[focus], revision, { announce: settled && groups.length === 1 });
    if (settled && groups.length > 1) view.announce(`The number reads ${numberText(results).split("").join(" ")}.`);
    inside.show(images[focus]); // after the answer, so that looking inside never delays it
    // a correction is about one digit: offered when one digit is drawn
    if (groups.length === 1) feedback.offer({ pixels: images[0], strokes: pad.strokes, predicted: results[0].digit });
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

// Keyboard users (and anyone) can try the model with sample digits: each is written after the drawing.
const SAMPLE_HEIGHT = 0.5; // pad heights
for (const button of document.querySelectorAll("[data-sample]")) {
  button.addEventListener("click", () => {
    let left = pad.isEmpty ? 0.15 : boundsOf(pad.strokes)[2] + 0.1;
    if (left + SAMPLE_HEIGHT * 0.6 > pad.aspect) {
      pad.clear(); // no room left: start again
      left = 0.15;
    }
    pad.addStrokes(placeSample(Number(button.dataset.sample), left, 0.25, SAMPLE_HEIGHT));
  });
}

// The wide pad: room to write a number of several digits side by side.
const wide = document.getElementById("wide-pad");
wide.addEventListener("click", () => {
  const on = wide.getAttribute("aria-pressed") !== "true";
  wide.setAttribute("aria-pressed", String(on));
  document.body.classList.toggle("wide-pad", on);
});

view.showEmpty(pad.revision);
numberView.showEmpty(pad.revision);
loadModel();
offerModels(document.getElementById("model-select"), document.getElementById("model-choice"), api, (name) => {
  api.useModel(name);
  inside.useModel(name);
  modelShown = false;
  loadModel();
  if (!pad.isEmpty) schedule(0); // the same drawing, read by the other model
});

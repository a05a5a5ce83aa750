// Corrections: after an answer, "wrong? tap the right digit" (ten buttons) or "it's right"; one tap,
// undoable for UNDO_MS, then POST /feedback. Nothing is sent until the undo window has passed (or the
// drawing changes, or the page is being left): an undo never needs the server.
//
// What is sent: the 784 pixels the network was given, the strokes (thinned to the server's bounds),
// the digit chosen, the network's answer and the model's id. No identifier of the person, no cookie.
// Reads and writes only the #feedback panel of index.html; main.js tells it about answers and changes.

import { fetchJson } from "./api.js";

export const UNDO_MS = 4000;
const STROKES_MAX = 32; // the server's bounds (schemas.py): more and the strokes are left out
const POINTS_PER_STROKE_MAX = 256;

/** Strokes of [x, y] in pad units -> at most POINTS_PER_STROKE_MAX evenly spaced points each, 4 decimals; null if too many strokes. */
export function thinStrokes(strokes) {
  if (!strokes.length || strokes.length > STROKES_MAX) return null;
  return strokes.map((stroke) => {
    const step = Math.max(1, (stroke.length - 1) / (POINTS_PER_STROKE_MAX - 1));
    const kept = [];
    for (let i = 0; kept.length < POINTS_PER_STROKE_MAX && Math.round(i) < stroke.length; i += step) kept.push(stroke[Math.round(i)]);
    if (kept[kept.length - 1] !== stroke[stroke.length - 1]) kept[kept.length - 1] = stroke[stroke.length - 1];
    return kept.map(([x, y]) => [Math.round(x * 1e4) / 1e4, Math.round(y * 1e4) / 1e4]);
  });
}

export function createFeedback(root = document) {
  const $ = (id) => root.getElementById(id);
  const panel = $("feedback");
  const thanks = $("thanks");
  const thanksText = $("thanks-text");
  const undoButton = $("feedback-undo");
  const confirmButton = $("confirm-right");
  const digitButtons = buildDigitButtons($("feedback-digits"));
  let offered = null; // { pixels, strokes, predicted } of the answer on screen
  let pending = null; // { body, timer } waiting out the undo window
  let modelId = null;

  function say(state, text) {
    thanks.hidden = false;
    thanks.dataset.state = state; // "pending" | "stored" | "undone" | "failed"
    thanksText.textContent = text;
    undoButton.hidden = state !== "pending";
  }

  function mark(label) {
    digitButtons.forEach((button, digit) => button.setAttribute("aria-pressed", String(digit === label)));
  }

  async function send(body) {
    try {
      await fetchJson("feedback", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), keepalive: true }, new AbortController());
      say("stored", body.label === body.predicted ? "Thanks: kept as a right answer." : `Thanks: kept as a ${body.label}.`);
    } catch (error) {
      say("failed", `Could not keep it: ${error.message}`);
    }
  }

  /** Send what is waiting now, without waiting out the undo window. */
  function flush() {
    if (!pending) return;
    clearTimeout(pending.timer);
    const { body } = pending;
    pending = null;
    send(body);
  }

  function choose(label) {
    if (!offered) return;
    const body = { pixels: offered.pixels, label, predicted: offered.predicted };
    if (modelId) body.model_id = modelId;
    if (offered.strokes) body.strokes = offered.strokes;
    if (pending) clearTimeout(pending.timer); // another tap inside the window replaces the choice
    pending = { body, timer: setTimeout(flush, UNDO_MS) };
    mark(label);
    say("pending", label === offered.predicted ? "Thanks: noted as right." : `Thanks: noted as a ${label}.`);
  }

  digitButtons.forEach((button, digit) => button.addEventListener("click", () => choose(digit)));
  confirmButton.addEventListener("click", () => offered && choose(offered.predicted));
  undoButton.addEventListener("click", () => {
    if (!pending) return;
    clearTimeout(pending.timer);
    pending = null;
    mark(-1);
    say("undone", "Undone: nothing was sent.");
  });
  // leaving the page must not lose a correction still in its undo window (keepalive outlives the page)
  window.addEventListener("pagehide", flush);

  function setEnabled(enabled) {
    for (const button of [...digitButtons, confirmButton]) button.disabled = !enabled;
  }

  return {
    setModelId(id) {
      modelId = typeof id === "string" ? id : null;
    },

    /** An answer is on screen: offer to correct it. pixels: the 784 values sent; strokes: the pad's. */
    offer({ pixels, strokes, predicted }) {
      offered = { pixels: Array.from(pixels), strokes: thinStrokes(strokes), predicted };
      confirmButton.textContent = `It's right: a ${predicted}`;
      setEnabled(true);
      panel.hidden = false;
    },

    /** The drawing changed: a choice already made is sent now, and nothing can be chosen until the next answer. */
    drawingChanged() {
      flush();
      offered = null;
      mark(-1);
      setEnabled(false);
    },

    /** The pad is empty: as drawingChanged, and the panel goes away (the last "thanks" stays). */
    withdraw() {
      this.drawingChanged();
      panel.hidden = true;
    },
  };
}

function buildDigitButtons(container) {
  container.replaceChildren();
  return Array.from({ length: 10 }, (_, digit) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "digit-button";
    button.textContent = String(digit);
    button.dataset.testid = `correct-${digit}`;
    button.setAttribute("aria-pressed", "false");
    button.setAttribute("aria-label", `It is a ${digit}`);
    container.append(button);
    return button;
  });
}

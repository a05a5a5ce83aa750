// Everything the page shows: the answer (big digit, confidence, ten bars), the 28x28 preview, the
// status line, the model panel, and the one ARIA live region (#announcer) that tells screen readers
// the settled answer, Clear and Undo, or an error (the status line is not live: it changes too often
// while drawing). The whole number's strip is number-view.js.
//
// Reads and writes only the elements marked in index.html; knows nothing about drawing or fetching.

const UNSURE_BELOW = 0.6; // a top probability under this is shown as a guess, not an answer
const SIDE = 28;

const percent = (p) => `${Math.round(p * 100)}%`;

export function createView(root = document) {
  const $ = (id) => root.getElementById(id);
  const prediction = $("prediction");
  const confidence = $("confidence");
  const doubt = $("doubt");
  const answer = $("answer");
  const status = $("status");
  const announcer = $("announcer");
  const preview = $("preview");
  const previewContext = preview.getContext("2d");
  const padHint = $("pad-hint");
  const bars = buildBars($("probabilities"));

  function setStatus(kind, text) {
    status.textContent = text;
    status.dataset.kind = kind; // "info" | "busy" | "ok" | "error": the CSS colours it
  }

  function setBars(probabilities) {
    const top = probabilities ? probabilities.indexOf(Math.max(...probabilities)) : -1;
    bars.forEach(({ row, fill, label }, digit) => {
      const p = probabilities ? probabilities[digit] : 0;
      row.dataset.value = String(p);
      row.classList.toggle("top", digit === top);
      row.setAttribute("aria-label", `${digit}: ${percent(p)}`);
      fill.style.transform = `scaleX(${p})`;
      label.textContent = probabilities ? percent(p) : "";
    });
  }

  return {
    setStatus,

    /** The pad (at `revision`) is empty: no answer, no preview, and say so. */
    showEmpty(revision) {
      prediction.textContent = "–";
      prediction.dataset.empty = "true";
      prediction.dataset.revision = String(revision);
      confidence.textContent = "No digit yet";
      doubt.hidden = true;
      answer.classList.remove("unsure", "stale", "not-digit");
      setBars(null);
      previewContext.clearRect(0, 0, SIDE, SIDE);
      preview.dataset.empty = "true";
      padHint.hidden = false;
      setStatus("info", "The pad is empty: draw a digit from 0 to 9.");
    },

    /** The user is drawing: hide the hint. */
    showDrawing() {
      padHint.hidden = true;
    },

    /** Paint the 784 values the network is given, white ink on black as in MNIST. */
    showPreview(pixels) {
      const image = previewContext.createImageData(SIDE, SIDE);
      for (let i = 0; i < SIDE * SIDE; i++) {
        const level = Math.round(pixels[i] * 255);
        image.data.set([level, level, level, 255], i * 4);
      }
      previewContext.putImageData(image, 0, 0);
      preview.dataset.empty = "false";
    },

    /** Waiting for an answer: keep the old one visible but dimmed, and say a new one is coming. */
    showPending() {
      answer.classList.add("stale");
      setStatus("busy", "Recognising…");
    },

    /** Tell screen readers `text` (the live region speaks when its text changes). */
    announce(text) {
      announcer.textContent = text;
    },

    /**
     * The network's answer { digit, confidence, probabilities[10], isDigit } for the pad at `revision`; spoken
     * when `announce` (the answer is settled: no stroke is being drawn).
     */
    showResult({ digit, confidence: p, probabilities, isDigit = true }, revision, { announce = true } = {}) {
      prediction.dataset.revision = String(revision);
      answer.classList.toggle("not-digit", !isDigit);
      if (!isDigit) {
        // no digit character at all: the best guess only in small print, the bars stay as they are
        prediction.textContent = "?";
        prediction.dataset.empty = "false";
        confidence.textContent = `Best guess: ${digit} (${percent(p)})`;
        doubt.hidden = true;
        doubt.textContent = "";
        answer.classList.remove("unsure", "stale");
        setBars(probabilities);
        setStatus("ok", "That does not look like a digit. Draw one digit from 0 to 9.");
        if (announce) announcer.textContent = "That does not look like a digit.";
        return;
      }
      const sorted = probabilities.map((q, d) => [q, d]).sort((a, b) => b[0] - a[0]);
      const unsure = p < UNSURE_BELOW;
      prediction.textContent = String(digit);
      prediction.dataset.empty = "false";
      confidence.textContent = unsure ? `Not sure: ${percent(p)}` : `${percent(p)} sure`;
      doubt.hidden = !unsure;
      doubt.textContent = unsure ? `It could also be a ${sorted[1][1]} (${percent(sorted[1][0])}). Try drawing it larger or clearer.` : "";
      answer.classList.toggle("unsure", unsure);
      answer.classList.remove("stale");
      setBars(probabilities);
      setStatus(unsure ? "warn" : "ok", unsure ? "Recognised, with doubt." : "Recognised.");
      const spoken = unsure ? `Perhaps a ${digit}, ${percent(p)}; or a ${sorted[1][1]}.` : `It is a ${digit}, ${percent(p)} sure.`;
      if (announce) announcer.textContent = spoken;
    },

    /** A failure: say it, keep the last answer dimmed. */
    showError(message) {
      answer.classList.add("stale");
      setStatus("error", message);
      announcer.textContent = message;
    },

    /** Fill the model panel from the model card of GET /model. */
    showModel(card) {
      const members = Array.isArray(card.members) ? card.members : [];
      const first = members[0] ?? {};
      const facts = {
        "model-name": card.name ?? card.model_id ?? "?",
        "model-architecture": (Array.isArray(first.layer_sizes) ? first.layer_sizes.join(" → ") : "?") +
          (members.length > 1 ? ` (ensemble of ${members.length})` : ""),
        "model-activation": [first.activation, first.output_activation && `${first.output_activation} output`].filter(Boolean).join(", ") || "?",
        "model-parameters": Number.isFinite(card.n_parameters) ? card.n_parameters.toLocaleString("en") : "?",
        "model-accuracy": Number.isFinite(card.test_accuracy) ? `${(card.test_accuracy * 100).toFixed(2)}%` : "?",
      };
      for (const [id, text] of Object.entries(facts)) $(id).textContent = text;
      $("model-facts").hidden = false;
      $("model-missing").hidden = true;
    },

    showModelMissing() {
      $("model-facts").hidden = true;
      $("model-missing").hidden = false;
    },
  };
}

/** Ten rows, one per digit, each with a bar and a percentage; returns their parts by digit. */
function buildBars(list) {
  list.replaceChildren();
  return Array.from({ length: 10 }, (_, digit) => {
    const row = document.createElement("li");
    row.dataset.digit = String(digit);
    row.dataset.value = "0";
    const name = document.createElement("span");
    name.className = "bar-digit";
    name.textContent = String(digit);
    const track = document.createElement("span");
    track.className = "bar-track";
    const fill = document.createElement("span");
    fill.className = "bar-fill";
    track.append(fill);
    const label = document.createElement("span");
    label.className = "bar-value";
    row.append(name, track, label);
    list.append(row);
    return { row, fill, label };
  });
}

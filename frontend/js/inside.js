// The "look inside" panel: what the network computed for the drawing, from POST /explain.
//
// Closed, it costs nothing: /explain is asked only while the panel is open, beside (never before)
// /predict, and the newest drawing wins (an older answer still in flight is dropped). Open, it shows
// the 28x28 input, each layer after it as a grid of cells whose brightness is the unit's activation
// ([data-testid=layer]), the evidence as a red/blue overlay on the answer's preview
// ([data-testid=evidence]), and the first-layer units that mattered most. Tapping a unit shows its
// value and, for the first hidden layer, its incoming weights as a 28x28 picture (fetched from
// /explain/weights/{member}/{unit} unless /explain already sent them). It explains the model the page's
// menu chose (useModel), the one that gave the answer shown. Pure helpers: inside-math.js.

import { fetchJson, withModel } from "./api.js";
import { SIDE, PIXELS, gridShape, unitAt, levels, signedRGBA, checkExplanation } from "./inside-math.js";

const HIDDEN_CELL = 8; // canvas pixels per hidden unit: an 800-unit layer is 232 px wide, a phone fits it
const OUTPUT_CELL = 28;
const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));

/** A requester whose answers are dropped (resolve to null) once a newer request or cancel() came. */
function latestWins() {
  let latest = 0;
  let inFlight = null;
  return {
    async get(path, options) {
      const ticket = ++latest;
      inFlight?.abort();
      const controller = (inFlight = new AbortController());
      try {
        const body = await fetchJson(path, options, controller);
        return ticket === latest ? body : null;
      } catch (error) {
        if (ticket !== latest) return null;
        throw error;
      } finally {
        if (inFlight === controller) inFlight = null;
      }
    },
    cancel() {
      latest++;
      inFlight?.abort();
      inFlight = null;
    },
  };
}

export function createInside(root = document) {
  const $ = (id) => root.getElementById(id);
  const toggle = $("inside-toggle");
  const panel = $("inside");
  const status = $("inside-status");
  const inputCanvas = $("inside-input");
  const layersBox = $("inside-layers");
  const evidence = $("evidence");
  const topUnits = $("inside-top-units");
  const unitFigure = $("inside-unit");
  const unitCanvas = $("inside-unit-weights");
  const unitValue = $("inside-unit-value");
  const explainCalls = latestWins();
  const weightCalls = latestWins();

  let open = false;
  let pixels = null; // the drawing's 784 inputs, or null for an empty pad
  let explanation = null; // the last checked /explain answer for `pixels`
  let layerViews = []; // one { canvas, n, cols, cell, output } per layer after the input
  let selected = null; // { layer (1-based), index }
  let model = null; // the model to explain (?model=NAME); null: the server's default

  toggle.addEventListener("click", () => {
    open = !open;
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? "Hide the inside" : "Look inside the network";
    evidence.hidden = !open || explanation === null;
    if (open) request();
    else explainCalls.cancel();
  });

  function setStatus(text, kind = "info") {
    status.textContent = text;
    status.dataset.kind = kind;
  }

  async function request() {
    if (!open) return;
    if (pixels === null) {
      setStatus("Draw a digit to see the network at work.");
      return;
    }
    const sent = pixels;
    try {
      const body = await explainCalls.get(withModel("explain", model), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ pixels: Array.from(sent) }),
      });
      if (body === null || sent !== pixels) return; // a newer drawing is on its way
      explanation = checkExplanation(body);
      render();
    } catch (error) {
      if (error.name === "AbortError") return;
      const why = error instanceof TypeError ? "its answer had an unexpected shape" : error.status ? `HTTP ${error.status}` : error.message;
      setStatus(`Could not look inside just now (${why}); the next change to the drawing tries again.`, "error");
    }
  }

  function buildLayers(sizes) {
    const same = layerViews.length === sizes.length - 1 && layerViews.every((view, l) => view.n === sizes[l + 1]);
    if (same) return;
    layersBox.replaceChildren();
    layerViews = sizes.slice(1).map((n, l) => {
      const output = l === sizes.length - 2;
      const { cols, rows } = output ? { cols: n, rows: 1 } : gridShape(n);
      const cell = output ? OUTPUT_CELL : HIDDEN_CELL;
      const figure = document.createElement("figure");
      figure.className = output ? "inside-layer inside-output" : "inside-layer";
      const canvas = document.createElement("canvas");
      canvas.width = cols * cell;
      canvas.height = rows * cell;
      canvas.setAttribute("data-testid", "layer");
      canvas.dataset.layer = String(l + 1);
      canvas.dataset.cell = String(cell);
      canvas.setAttribute("role", "img");
      const caption = document.createElement("figcaption");
      caption.textContent = output ? "Output: the ten digits" : `Hidden layer ${l + 1}: ${n} units (tap one)`;
      figure.append(canvas, caption);
      layersBox.append(figure);
      const view = { canvas, n, cols, cell, output, layer: l + 1 };
      if (!output) canvas.addEventListener("click", (event) => pick(view, event));
      return view;
    });
  }

  function pick(view, event) {
    if (explanation === null) return; // a blank grid (empty pad) has no unit to show
    const scale = view.canvas.width / view.canvas.clientWidth;
    const index = unitAt(view.n, view.cols, view.cell, event.offsetX * scale, event.offsetY * scale);
    if (index >= 0) select(view.layer, index);
  }

  function drawLayer(view, values) {
    const context = view.canvas.getContext("2d");
    const bright = view.output ? Array.from(values, (p) => Math.min(1, Math.max(0, p))) : levels(values);
    context.fillStyle = "#0b1020";
    context.fillRect(0, 0, view.canvas.width, view.canvas.height);
    bright.forEach((level, i) => {
      const x = (i % view.cols) * view.cell;
      const y = Math.floor(i / view.cols) * view.cell;
      const grey = Math.round(level * 255);
      context.fillStyle = `rgb(${grey} ${grey} ${grey})`;
      context.fillRect(x + 0.5, y + 0.5, view.cell - 1, view.cell - 1);
      if (view.output) {
        context.fillStyle = level > 0.5 ? "#0b1020" : "#9aa3b5";
        context.font = "bold 13px system-ui, sans-serif";
        context.textAlign = "center";
        context.textBaseline = "middle";
        context.fillText(String(i), x + view.cell / 2, y + view.cell / 2);
      }
    });
    if (selected && selected.layer === view.layer) {
      context.strokeStyle = "#f59f00";
      context.lineWidth = 2;
      context.strokeRect((selected.index % view.cols) * view.cell + 1, Math.floor(selected.index / view.cols) * view.cell + 1, view.cell - 2, view.cell - 2);
    }
    let active = 0;
    for (const v of values) if (v > 0) active++;
    view.canvas.dataset.active = String(active);
    view.canvas.setAttribute("aria-label", view.output ? "The ten output probabilities" : `Layer ${view.layer}: ${active} of ${view.n} units active`);
  }

  function drawPixels(canvas, rgba) {
    const context = canvas.getContext("2d");
    const image = context.createImageData(SIDE, SIDE);
    image.data.set(rgba);
    context.putImageData(image, 0, 0);
  }

  function drawInput(values) {
    const rgba = new Uint8ClampedArray(PIXELS * 4);
    for (let i = 0; i < PIXELS; i++) {
      const level = Math.round((values ? values[i] : 0) * 255);
      rgba.set([level, level, level, 255], i * 4);
    }
    drawPixels(inputCanvas, rgba);
  }

  function render() {
    const e = explanation;
    buildLayers(e.layer_sizes);
    layerViews.forEach((view, l) => drawLayer(view, e.activations[l]));
    drawPixels(evidence, signedRGBA(e.evidence));
    evidence.hidden = !open;
    evidence.setAttribute("aria-label", `Evidence: red ink pushed towards ${e.digit}, blue towards ${e.runner_up}`);
    const who = e.members > 1 ? ` Shown: network ${e.member + 1} of ${e.members}, the one most sure of the answer.` : "";
    setStatus(`Why ${e.digit} and not ${e.runner_up}: red ink on the preview pushed towards ${e.digit}, blue towards ${e.runner_up}.${who}`, "ok");
    renderTopUnits(e);
    if (selected) showUnit();
  }

  function renderTopUnits(e) {
    topUnits.replaceChildren(
      ...e.units.map((unit) => {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "inside-top-unit";
        button.title = `Unit ${unit.index}: value ${fmt(unit.activation)}, moved the score by ${fmt(unit.contribution)}`;
        button.setAttribute("aria-label", button.title);
        const canvas = document.createElement("canvas");
        canvas.width = canvas.height = SIDE;
        drawPixels(canvas, signedRGBA(unit.weights, { alpha: 255 }));
        button.append(canvas);
        button.addEventListener("click", () => select(1, unit.index));
        return button;
      }),
    );
  }

  function select(layer, index) {
    selected = { layer, index };
    layerViews.forEach((view, l) => drawLayer(view, explanation.activations[l]));
    showUnit();
  }

  async function showUnit() {
    const { layer, index } = selected;
    const e = explanation;
    const value = e.activations[layer - 1][index];
    unitFigure.hidden = false;
    unitFigure.dataset.layer = String(layer);
    unitFigure.dataset.unit = String(index);
    unitFigure.dataset.member = String(e.member);
    if (layer !== 1) {
      unitCanvas.hidden = true;
      unitValue.textContent = `Layer ${layer}, unit ${index}: value ${fmt(value)}. Its inputs are the units of layer ${layer - 1}, not pixels: tap a unit of layer 1 to see its weights as a picture.`;
      return;
    }
    unitValue.textContent = `Layer 1, unit ${index}: value ${fmt(value)}. Its weights: red pixels raise it, blue ones lower it.`;
    const member = e.member;
    let weights = e.units.find((unit) => unit.index === index)?.weights;
    if (!weights) {
      try {
        const body = await weightCalls.get(withModel(`explain/weights/${member}/${index}`, model), { method: "GET", headers: {} });
        if (body === null || selected?.index !== index || explanation?.member !== member) return;
        weights = body.weights;
      } catch (error) {
        if (error.name !== "AbortError") unitValue.textContent = error.message;
        return;
      }
    }
    unitCanvas.hidden = false;
    drawPixels(unitCanvas, signedRGBA(weights, { alpha: 255 }));
    unitCanvas.dataset.unit = String(index);
  }

  return {
    /** The pad's new drawing (784 inputs): shown as the input, explained if the panel is open. */
    show(values) {
      pixels = values;
      drawInput(values);
      request();
    },

    /** Explain this model from now on (the page's menu chose it); the caller then shows the drawing again. */
    useModel(name) {
      model = name;
      explanation = null;
      selected = null;
      explainCalls.cancel();
      weightCalls.cancel();
      unitFigure.hidden = true; // a unit of the other network
    },

    /** The pad is empty: forget the explanation and any request in flight. */
    clear() {
      pixels = null;
      explanation = null;
      selected = null;
      explainCalls.cancel();
      evidence.hidden = true;
      drawInput(null);
      layerViews.forEach((view) => drawLayer(view, new Array(view.n).fill(0)));
      topUnits.replaceChildren();
      unitFigure.hidden = true;
      if (open) setStatus("Draw a digit to see the network at work.");
    },
  };
}

// The "how it learned" page: reads data/how-it-learned.json (written by `python scripts/evaluate.py
// --how-it-learned` from the model cards) and draws the presets' figures, their learning curves as SVG
// charts, the shipped model's confusion matrix and the test digits it gets wrong. A preset whose card
// has no per-epoch history is shown as missing, never filled in. Pure helpers: how-math.js.

import { linearScale, pathData, ticks, curve, decodePixels, percent, memberOrigins, epochsPerMember, longestRecord } from "./how-math.js";

const SVG = "http://www.w3.org/2000/svg";
const DATA = "data/how-it-learned.json";
const $ = (id) => document.getElementById(id);

function svg(tag, attributes = {}, text = "") {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text) node.textContent = text;
  return node;
}

function element(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text) node.textContent = text;
  return node;
}

const orDash = (value, show = String) => (value === null || value === undefined ? "–" : show(value));
const duration = (s) => (s < 120 ? `${s.toFixed(0)} s` : `${(s / 60).toFixed(0)} min`);

function presetCard(preset) {
  const card = element("article", { class: "preset", "data-testid": "preset", "data-preset": preset.preset });
  card.append(element("h3", {}, preset.preset + (preset.preset === "best" ? " (served)" : "")));
  const facts = [
    ["Layers", orDash(preset.layer_sizes, (s) => s.join(" → ")) + (preset.members > 1 ? ` × ${preset.members} averaged` : ""), "layers"],
    ["Units", `${preset.activation}, ${preset.output_activation} output`, "activation"],
    ["Cost", orDash(preset.cost), "cost"],
    ["Optimiser", `${preset.optimizer}, η = ${preset.members_from ? "each member its own" : preset.learning_rate}`, "optimizer"],
    ["Epochs", (preset.members_from ? "each member its own" : orDash(preset.epochs)) + (preset.augmented ? ", distorted copies" : "") + (preset.dropout ? `, dropout ${preset.dropout}` : ""), "epochs"],
    ["Parameters", orDash(preset.n_parameters, (n) => n.toLocaleString("en")), "parameters"],
    ["Validation accuracy", orDash(preset.validation_accuracy, percent), "validation-accuracy"],
    ["Test accuracy", orDash(preset.test_accuracy, percent), "test-accuracy"],
    ["Training time", orDash(preset.training_wall_time_s, duration), "training-time"],
  ];
  if (preset.parent) {
    // a fine-tune's own epochs and time are its last step: say what it started from
    const from = preset.parent;
    facts.push(["Fine-tuned from", `${orDash(from.model_id)}: ${orDash(from.epochs)} epochs, ${orDash(from.training_wall_time_s, duration)}`, "parent"]);
  }
  if (preset.members_from) {
    // networks of different trainings averaged: no single recipe, so one line per member
    facts.push(["Members", memberOrigins(preset.members_from).map((line, i) => `${i + 1}. ${line}`), "members-from"]);
  }
  const list = element("dl");
  for (const [name, value, id] of facts) {
    const row = element("div");
    const fact = element("dd", { "data-fact": id }, Array.isArray(value) ? "" : value);
    if (Array.isArray(value)) fact.append(...value.map((line) => element("span", { class: "fact-line" }, line))); // one line each
    row.append(element("dt", {}, name), fact);
    list.append(row);
  }
  card.append(list);
  return card;
}

/** One SVG chart of train (solid) and validation (dashed) values per epoch. */
function lineChart(title, series, { percentAxis = false } = {}) {
  const width = 320;
  const height = 200;
  const pad = { left: 46, right: 10, top: 24, bottom: 30 };
  const values = [...series.train, ...series.validation].filter(Number.isFinite);
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi === lo) hi = lo + 1e-6;
  const margin = (hi - lo) * 0.05;
  lo -= margin;
  hi += margin;
  const sx = linearScale(series.epochs[0], series.epochs[series.epochs.length - 1], pad.left, width - pad.right);
  const sy = linearScale(lo, hi, height - pad.bottom, pad.top);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title, class: "chart" });
  chart.append(svg("text", { x: pad.left, y: 15, class: "chart-title" }, title));
  for (const t of ticks(lo, hi)) {
    chart.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: sy(t), y2: sy(t), class: "grid" }));
    chart.append(svg("text", { x: pad.left - 5, y: sy(t) + 4, class: "tick", "text-anchor": "end" }, percentAxis ? `${(t * 100).toFixed(1)}` : String(t)));
  }
  for (const e of ticks(series.epochs[0], series.epochs[series.epochs.length - 1], 5).filter(Number.isInteger)) {
    chart.append(svg("text", { x: sx(e), y: height - pad.bottom + 14, class: "tick", "text-anchor": "middle" }, String(e)));
  }
  chart.append(svg("text", { x: (pad.left + width - pad.right) / 2, y: height - 3, class: "axis", "text-anchor": "middle" }, "epoch"));
  for (const [name, kind] of [["train", "train"], ["validation", "validation"]]) {
    chart.append(svg("path", { d: pathData(series.epochs, series[name], sx, sy), class: `line ${kind}`, "data-series": name }));
  }
  const legend = svg("g", { class: "legend" });
  legend.append(svg("line", { x1: width - 150, x2: width - 134, y1: 12, y2: 12, class: "line train" }));
  legend.append(svg("text", { x: width - 130, y: 16, class: "tick" }, "train"));
  legend.append(svg("line", { x1: width - 92, x2: width - 76, y1: 12, y2: 12, class: "line validation" }));
  legend.append(svg("text", { x: width - 72, y: 16, class: "tick" }, "validation"));
  chart.append(legend);
  return chart;
}

function curvesFor(preset) {
  const box = element("figure", { class: "curve-pair", "data-testid": "preset-curves", "data-preset": preset.preset });
  box.append(element("figcaption", {}, preset.preset));
  if (!Array.isArray(preset.history) || preset.history.length === 0) {
    box.append(
      element(
        "p",
        { class: "missing", "data-testid": "history-missing" },
        "No per-epoch record: this model was trained before the trainer kept one, so its curve is missing rather than made up.",
      ),
    );
    return box;
  }
  const charts = element("div", { class: "curve-charts" });
  const draw = (member) =>
    charts.replaceChildren(
      lineChart("Loss", curve(preset.history, "loss", member)),
      lineChart("Accuracy (%)", curve(preset.history, "accuracy", member), { percentAxis: true }),
    );
  const epochs = epochsPerMember(preset.history);
  // first the network with the longest record: in a mixed ensemble, the one trained from scratch (as in the README's chart)
  const longest = longestRecord(epochs);
  if (epochs.size > 1) {
    // an ensemble's networks may come from different trainings (a fine-tune, a long run): each its own curve
    const label = element("label", { class: "curve-member" }, "Network ");
    const choice = element("select", { "data-testid": "curve-member" });
    for (const [member, count] of epochs) {
      const origin = preset.members_from?.[member];
      const text = `${member + 1} of ${preset.members}` + (origin ? ` (seed ${origin.seed}, ${count} epochs)` : "");
      choice.append(element("option", { value: member }, text));
    }
    choice.value = String(longest);
    choice.addEventListener("change", () => draw(Number(choice.value)));
    label.append(choice);
    box.append(label);
  }
  box.append(charts);
  draw(longest);
  return box;
}

function confusionMatrix(counts) {
  const cell = 30;
  const offset = 22;
  const size = offset + cell * 10;
  const worst = Math.max(1, ...counts.flatMap((row, t) => row.filter((_, a) => a !== t)));
  const chart = svg("svg", { viewBox: `0 0 ${size + 4} ${size + 4}`, role: "img", "aria-label": "Confusion matrix", class: "confusion-chart" });
  for (let d = 0; d < 10; d++) {
    chart.append(svg("text", { x: offset + d * cell + cell / 2, y: 15, class: "tick", "text-anchor": "middle" }, String(d)));
    chart.append(svg("text", { x: 10, y: offset + d * cell + cell / 2 + 4, class: "tick", "text-anchor": "middle" }, String(d)));
  }
  counts.forEach((row, truth) =>
    row.forEach((count, answer) => {
      const right = truth === answer;
      const strength = right ? 0 : count / worst;
      const fill = right ? "#dbe4ff" : `rgb(255 ${Math.round(245 - 180 * strength)} ${Math.round(245 - 180 * strength)})`;
      const x = offset + answer * cell;
      const y = offset + truth * cell;
      chart.append(svg("rect", { x, y, width: cell - 1, height: cell - 1, fill, "data-truth": truth, "data-answer": answer, "data-count": count }));
      if (count) chart.append(svg("text", { x: x + cell / 2, y: y + cell / 2 + 4, class: right ? "count right" : "count", "text-anchor": "middle" }, String(count)));
    }),
  );
  return chart;
}

function mistakeFigure(mistake) {
  const figure = element("figure", { class: "mistake", "data-testid": "mistake", "data-index": mistake.index });
  const canvas = element("canvas", { width: 28, height: 28, role: "img", "aria-label": `Test digit ${mistake.index}` });
  const context = canvas.getContext("2d");
  const image = context.createImageData(28, 28);
  decodePixels(mistake.pixels).forEach((level, i) => image.data.set([255 - level * 255, 255 - level * 255, 255 - level * 255, 255], i * 4));
  context.putImageData(image, 0, 0);
  figure.append(canvas, element("figcaption", {}, `a ${mistake.truth}, read as ${mistake.answer} (${percent(mistake.confidence, 0)})`));
  return figure;
}

async function main() {
  const status = $("how-status");
  let data;
  try {
    const response = await fetch(DATA, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    data = await response.json();
  } catch (error) {
    status.dataset.kind = "error";
    status.textContent = `Could not load ${DATA} (${error.message}): run python scripts/evaluate.py --how-it-learned.`;
    return;
  }
  $("presets").replaceChildren(...data.presets.map(presetCard));
  $("curves").replaceChildren(...data.presets.map(curvesFor));
  const measured = data.presets.find((p) => p.history_measured)?.history_measured;
  $("curves-note").textContent = measured ? `Measured ${measured}.` : "";
  $("confusion").replaceChildren(confusionMatrix(data.test_confusion));
  $("mistakes-note").textContent =
    `${data.mistakes.length} of ${data.test_images.toLocaleString("en")} test digits, most confidently wrong first: the picture, the truth, the answer and its probability.`;
  $("mistakes").replaceChildren(...data.mistakes.map(mistakeFigure));
  status.dataset.kind = "ok";
  status.textContent = `Shipped model: ${data.shipped}.`;
  document.body.dataset.ready = "true";
}

main();

// Pure helpers for the "how it learned" page (how.js): scales, SVG path data, axis ticks, a learning
// curve out of a card's history, and the gallery's base64 pictures. No DOM: Node tests them
// (tests/frontend/js/how.test.mjs).

/** A function mapping [d0, d1] linearly onto [r0, r1] (a flat domain maps to the middle of the range). */
export function linearScale(d0, d1, r0, r1) {
  if (d1 === d0) return () => (r0 + r1) / 2;
  return (v) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0);
}

/** SVG path data "M x y L x y ..." through the points (xs[i], ys[i]), two decimals. */
export function pathData(xs, ys, sx, sy) {
  return xs.map((x, i) => `${i ? "L" : "M"}${sx(x).toFixed(2)} ${sy(ys[i]).toFixed(2)}`).join(" ");
}

/** About `count` round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten). */
export function ticks(lo, hi, count = 4) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw * 0.7); // 0.7: a few more ticks rather than too few
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** One member's curve from a card's history rows: { epochs, train, validation } for "loss" or "accuracy". */
export function curve(history, quantity, member = 0) {
  const rows = history.filter((row) => row.member === member).sort((a, b) => a.epoch - b.epoch);
  return {
    epochs: rows.map((row) => row.epoch),
    train: rows.map((row) => row[`train_${quantity}`]),
    validation: rows.map((row) => row[`validation_${quantity}`]),
  };
}

/** One line per network of an ensemble joined from different trainings (a card's members_from, as
 * learning.origin_summary gives it): "seed 22: 200 epochs at η = 0.05 with drawn digits and number pieces". */
export function memberOrigins(origins) {
  return origins.map((origin) => {
    const data = [origin.drawn_digits && "drawn digits", origin.number_pieces && "number pieces"].filter(Boolean);
    const mixedIn = data.length ? ` with ${data.join(" and ")}` : "";
    const rate = origin.learning_rate === null || origin.learning_rate === undefined ? "" : ` at η = ${origin.learning_rate}`;
    const epochs = origin.parent
      ? `${origin.parent.epochs} epochs (${origin.parent.model_id}), then ${origin.epochs} fine-tuned${rate}${mixedIn}`
      : `${origin.epochs} epochs${rate}${mixedIn}`;
    return `seed ${origin.seed}: ${epochs}`;
  });
}

/** How many epochs each member (0-based) has in a card's history: a Map in ascending member order. */
export function epochsPerMember(history) {
  const counts = new Map();
  for (const member of history.map((row) => row.member).sort((a, b) => a - b)) counts.set(member, (counts.get(member) ?? 0) + 1);
  return counts;
}

/** The member with the most epochs in epochsPerMember's counts (the first of equals). */
export function longestRecord(counts) {
  return [...counts].reduce((best, entry) => (entry[1] > best[1] ? entry : best))[0];
}

/** 784 grey levels in [0, 1] from the base64 of 784 bytes. */
export function decodePixels(base64) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  if (bytes.length !== 784) throw new RangeError(`a picture has 784 bytes, got ${bytes.length}`);
  return Array.from(bytes, (b) => b / 255);
}

/** "99.47%" from 0.9947: the card's fraction as the page prints it. */
export const percent = (fraction, digits = 2) => `${(fraction * 100).toFixed(digits)}%`;

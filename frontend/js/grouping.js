// Which strokes make which digit, when a number is written on the pad: pure functions on stroke data.
//
// A stroke is an array of [x, y] points in pad units (both axes in units of the pad's height). People
// write a number's digits side by side, left to right, and the strokes of one digit stack over the same
// columns (a 4's stem over its corner, a 5's flag over its body, a 7's bar): so strokes whose column
// ranges overlap by more than OVERLAP of the narrower one belong to one digit, whatever order they were
// drawn in and however the baseline drifts. Digits that nearly touch are still apart, since it is
// columns, not ink, that decide. Every column range is widened by WIDEN of the tallest stroke's height,
// so a vertical 1 (no width at all) has some, and a number written small groups as it does written
// large. One exception: a 1 (a thin upright bar) written against a whole digit
// overlaps its columns only at their edge, where no stroke of that digit stands, so a bar whose middle is
// within EDGE of the other's width from its edge, beside a group nearly as tall, stays its own digit (a
// 4's stem stands further in, a 1's flag or a 7's bar is not as tall). And no digit is flat: a group
// less than FLAT of the tallest group's height (a 5's flag drawn apart, pushed off its body by slanted
// writing) joins the group whose columns it shares most. `fitGroup` places one group's
// strokes in the square ink grid the preprocessing reads (its longer side FILL of the grid, the pen
// scaled to the group's size, as the single-digit pad always did), so every digit is framed alike
// wherever and however small it was written.
// Leaves out drawing (pad.js) and the 28x28 maths (preprocess.js).

export const OVERLAP = 0.4; // share of the narrower column range two strokes must share to be one digit
export const THIN = 0.25; // a stroke no wider than this share of its height is an upright bar (a 1)...
export const BESIDE_HEIGHT = 0.8; // ...beside a group at least this share of its height...
export const EDGE = 0.15; // ...is apart from it unless its middle is this share of that group's width inside it
export const WIDEN = 0.05; // every stroke's column range widens by this share of the tallest stroke's height
export const FLAT = 0.3; // a group less tall than this share of the tallest group is part of a digit, not one
export const FILL = 0.8; // a group's longer side, as a share of the ink grid
// The network's pen follows the drawing's size, so a digit scaled to MNIST's 20 px box has about as
// much ink as MNIST's own (measured per class) whether it was drawn large or small.
export const PEN_PER_EXTENT = 0.16;
export const MIN_PEN = 0.02; // in pad units: a lone tap still leaves a dot
const MIN_EXTENT = 1e-3; // a single tap has no extent: frame it as a dot

/** [left, top, right, bottom] around the points of some strokes (centre lines, pad units). */
export function boundsOf(strokes) {
  let [left, top, right, bottom] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const stroke of strokes) {
    for (const [x, y] of stroke) {
      left = Math.min(left, x);
      right = Math.max(right, x);
      top = Math.min(top, y);
      bottom = Math.max(bottom, y);
    }
  }
  return [left, top, right, bottom];
}

/** Column overlap of two [left, right] ranges, as a share of the narrower (each widened by `pen`). */
function overlapShare([a0, a1], [b0, b1], pen) {
  const shared = Math.min(a1, b1) - Math.max(a0, b0) + pen;
  const narrower = Math.min(a1 - a0, b1 - b0) + pen;
  return shared / narrower;
}

/** Is `bar` (a group: columns, rows) a thin upright bar leaning on the edge of `other`, a digit of its own? */
function barAtEdge(bar, other, pen) {
  const [left, right] = bar.columns;
  const height = bar.rows[1] - bar.rows[0];
  if (right - left + pen > THIN * height || other.rows[1] - other.rows[0] < BESIDE_HEIGHT * height) return false;
  const middle = (left + right) / 2;
  const inside = Math.min(middle - other.columns[0], other.columns[1] - middle);
  return inside < EDGE * (other.columns[1] - other.columns[0]);
}

/** One group of two: their strokes together, columns and rows spanning both. */
function joined(a, b) {
  return {
    members: [...a.members, ...b.members].sort((x, y) => x - y),
    columns: [Math.min(a.columns[0], b.columns[0]), Math.max(a.columns[1], b.columns[1])],
    rows: [Math.min(a.rows[0], b.rows[0]), Math.max(a.rows[1], b.rows[1])],
  };
}

const heightOf = (group) => group.rows[1] - group.rows[0];

/** Each flat group (less than FLAT of the tallest group's height) joined to the taller group whose columns it shares most. */
function joinFlatGroups(groups, pen) {
  const tallest = Math.max(0, ...groups.map(heightOf));
  const isFlat = (group) => heightOf(group) < FLAT * tallest;
  for (let k = 0; k < groups.length; k++) {
    if (!isFlat(groups[k])) continue;
    const [left, right] = groups[k].columns;
    let [host, mostShared] = [-1, 0];
    groups.forEach((other, j) => {
      const shared = Math.min(right, other.columns[1]) - Math.max(left, other.columns[0]) + pen;
      if (!isFlat(other) && shared > mostShared) [host, mostShared] = [j, shared];
    });
    if (host >= 0) {
      groups[host] = joined(groups[k], groups[host]);
      groups.splice(k, 1);
      k = -1; // the groups moved: look again from the start
    }
  }
  return groups;
}

/**
 * Strokes -> digits: arrays of stroke indices, one per digit, left to right (by the middle of their
 * columns); each array in drawing order.
 */
export function groupStrokes(strokes) {
  let groups = strokes.map((stroke, index) => {
    const [left, top, right, bottom] = boundsOf([stroke]);
    return { members: [index], columns: [left, right], rows: [top, bottom] };
  });
  const pen = Math.max(MIN_EXTENT, WIDEN * Math.max(0, ...groups.map(heightOf))); // pad units: WIDEN of the tallest stroke
  // join any two groups that overlap enough, until none do (joining widens a group: it may reach another)
  for (let merged = true; merged; ) {
    merged = false;
    outer: for (let i = 0; i < groups.length; i++) {
      for (let j = i + 1; j < groups.length; j++) {
        const [a, b] = [groups[i], groups[j]];
        if (overlapShare(a.columns, b.columns, pen) > OVERLAP && !barAtEdge(a, b, pen) && !barAtEdge(b, a, pen)) {
          groups[i] = joined(a, b);
          groups.splice(j, 1);
          merged = true;
          break outer;
        }
      }
    }
  }
  groups = joinFlatGroups(groups, pen);
  groups = groups.filter((group) => group.members.some((index) => strokes[index].length > 0));
  groups.sort((a, b) => a.columns[0] + a.columns[1] - (b.columns[0] + b.columns[1]));
  return groups.map((group) => group.members);
}

/**
 * One group's strokes placed in a `size` x `size` grid: { strokes (grid px), pen (grid px) }. The group's
 * box is centred and its longer side scaled to FILL of the grid; the pen is PEN_PER_EXTENT of that side
 * (at least MIN_PEN pad units, scaled alike).
 */
export function fitGroup(strokes, size) {
  const [left, top, right, bottom] = boundsOf(strokes);
  const extent = Math.max(right - left, bottom - top, MIN_EXTENT);
  const scale = (FILL * size) / extent; // grid px per pad unit
  const [cx, cy] = [(left + right) / 2, (top + bottom) / 2];
  return {
    strokes: strokes.map((stroke) => stroke.map(([x, y]) => [size / 2 + (x - cx) * scale, size / 2 + (y - cy) * scale])),
    pen: Math.max(MIN_PEN, PEN_PER_EXTENT * extent) * scale,
  };
}

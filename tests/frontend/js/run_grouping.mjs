// Parity helper for tests/frontend/test_parity.py: reads {"strokes": [[[x, y], ...], ...], "size": N} as JSON
// on stdin and prints {"groups": [[stroke indices]], "fitted": [{"strokes", "pen"}]}: grouping.js's
// groupStrokes, and fitGroup of each group into an N x N grid.
import { groupStrokes, fitGroup } from "../../../frontend/js/grouping.js";

let input = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) input += chunk;
const { strokes, size } = JSON.parse(input);
const groups = groupStrokes(strokes);
const fitted = groups.map((group) => fitGroup(group.map((i) => strokes[i]), size));
process.stdout.write(JSON.stringify({ groups, fitted }));

// Runs the page's stroke grouping under Node for backend/testing/page_reading.py: reads {"numbers":
// [[stroke, ...], ...], "size": N} as JSON on stdin (a stroke is [[x, y], ...] in pad units) and prints
// [{"groups": [[stroke indices]], "fitted": [{"strokes", "pen"}]}] per number: grouping.js's
// groupStrokes, and fitGroup of each group into an N x N ink grid.
import { groupStrokes, fitGroup } from "../../../frontend/js/grouping.js";

let input = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) input += chunk;
const { numbers, size } = JSON.parse(input);
const read = numbers.map((strokes) => {
  const groups = groupStrokes(strokes);
  return { groups, fitted: groups.map((group) => fitGroup(group.map((i) => strokes[i]), size)) };
});
process.stdout.write(JSON.stringify(read));

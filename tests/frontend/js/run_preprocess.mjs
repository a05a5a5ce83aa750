// Parity helper for tests/frontend/test_parity.py: reads {"images": [{"height", "width", "ink": [...]}]}
// as JSON on stdin and prints {"results": [[784 numbers] | {"error": name}]} computed by preprocess.js.
import { inkToMnist } from "../../../frontend/js/preprocess.js";

let input = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) input += chunk;
const { images } = JSON.parse(input);
const results = images.map(({ height, width, ink }) => {
  try {
    return Array.from(inkToMnist(ink, height, width));
  } catch (error) {
    return { error: error.name, message: error.message };
  }
});
process.stdout.write(JSON.stringify({ results }));

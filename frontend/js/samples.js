// Sample digits for trying the model without a pointer (keyboard, switch access): each digit as strokes
// in a unit box (x right, y down, 0..1), in the order and direction a hand writes them. `placeSample`
// fits one into the pad's coordinates. Pure data and one pure function; the buttons are wired in main.js.

const arc = (cx, cy, rx, ry, from, to) => {
  const steps = Math.max(8, Math.ceil(Math.abs(to - from) / 6));
  return Array.from({ length: steps + 1 }, (_, i) => {
    const a = ((from + ((to - from) * i) / steps) * Math.PI) / 180;
    return [cx + rx * Math.cos(a), cy + ry * Math.sin(a)];
  });
};

export const SAMPLES = {
  0: [arc(0.5, 0.5, 0.36, 0.46, -80, -440)],
  1: [[[0.58, 0.04], [0.5, 0.5], [0.42, 0.96]]],
  2: [[...arc(0.48, 0.3, 0.34, 0.26, 195, 390), [0.45, 0.7], [0.12, 0.96], [0.9, 0.95]]],
  3: [[...arc(0.46, 0.27, 0.34, 0.23, 205, 450), ...arc(0.46, 0.73, 0.4, 0.25, -90, 155).slice(1)]],
  4: [[[0.3, 0.04], [0.1, 0.62], [0.9, 0.62]], [[0.7, 0.22], [0.68, 0.98]]],
  5: [[[0.3, 0.05], [0.24, 0.45], ...arc(0.47, 0.69, 0.36, 0.27, -118, 150).slice(1)], [[0.3, 0.05], [0.86, 0.04]]],
  6: [[[0.72, 0.03], [0.44, 0.24], [0.24, 0.5], ...arc(0.5, 0.72, 0.32, 0.25, 180, -175)]],
  7: [[[0.1, 0.06], [0.9, 0.06], [0.38, 0.97]]],
  8: [[...arc(0.5, 0.27, 0.27, 0.23, 90, -270), ...arc(0.5, 0.73, 0.33, 0.25, -90, 270).slice(1)]],
  9: [[...arc(0.5, 0.3, 0.34, 0.26, 15, -345), [0.84, 0.33], [0.74, 0.97]]],
};

/**
 * The strokes of sample `digit` placed in pad units: its unit box `height` tall and half as wide, left
 * edge at `left`, top at `top`.
 */
export function placeSample(digit, left, top, height) {
  const width = height * 0.6;
  return SAMPLES[digit].map((stroke) => stroke.map(([x, y]) => [left + x * width, top + y * height]));
}

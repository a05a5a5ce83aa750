// From the pad's ink to the network's 784 inputs, the way MNIST itself was made.
//
// A line-by-line port of `ink_to_mnist` in backend/recognition/preprocess.py (same threshold, same area-averaging
// weights, same round-half-up, same centre and clamping); tests/frontend/test_parity.py feeds both the
// same drawings. Pure functions on flat row-major arrays: no DOM, so Node can test it on its own.
// Reading the canvas is the pad's job; `alphaToInk` only converts RGBA bytes it is handed.

export const SIDE = 28; // the MNIST field
export const BOX = 20; // the longer side of the digit after scaling
export const CENTRE = 14.0; // where MNIST's centres of mass lie, in pixel-index coordinates
// A symmetric shape (a dot, a uniform bar) has its centre of mass exactly on a half pixel, where the
// last bits of the two implementations' sums would round to different neighbours; a nudge far above
// those bits and far below a pixel makes both go the same way.
export const HALF_PIXEL_NUDGE = 1e-9;
export const INK_THRESHOLD = 0.1; // ink below this does not count toward the bounding box

/** The picture has no ink: nothing to recognise. */
export class EmptyImageError extends Error {
  constructor(message = "the image has no ink: draw a digit") {
    super(message);
    this.name = "EmptyImageError";
  }
}

/**
 * Ink intensities (height x width, flat row-major, in [0, 1], 0 = background) -> the MNIST-framed
 * digit as a Float32Array of 784 values in [0, 1]. Throws EmptyImageError when there is no ink.
 */
export function inkToMnist(ink, height, width) {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0) {
    throw new RangeError(`expected a 2-D image, got ${height}x${width}`);
  }
  if (ink.length !== height * width) {
    throw new RangeError(`expected ${height * width} values for ${height}x${width}, got ${ink.length}`);
  }
  const clipped = new Float64Array(ink.length);
  for (let i = 0; i < ink.length; i++) {
    if (!Number.isFinite(ink[i])) throw new RangeError("image holds NaN or infinite values");
    clipped[i] = Math.min(Math.max(ink[i], 0), 1);
  }
  const [top, bottom, left, right] = inkBoundingBox(clipped, height, width);
  const cropH = bottom - top;
  const cropW = right - left;
  const scale = BOX / Math.max(cropH, cropW);
  const outH = Math.max(1, roundHalfUp(cropH * scale));
  const outW = Math.max(1, roundHalfUp(cropW * scale));
  const rowWeights = areaWeights(cropH, outH); // (outH, cropH)
  const colWeights = areaWeights(cropW, outW); // (outW, cropW)

  // small = rowWeights @ crop @ colWeights.T, as two passes: rows first, then columns
  const tall = new Float64Array(outH * cropW); // (outH, cropW)
  for (let i = 0; i < outH; i++) {
    for (let k = 0; k < cropH; k++) {
      const weight = rowWeights[i * cropH + k];
      if (weight === 0) continue; // the weights are a narrow band: skip the zeros
      const source = (top + k) * width + left;
      for (let x = 0; x < cropW; x++) tall[i * cropW + x] += weight * clipped[source + x];
    }
  }
  const small = new Float64Array(outH * outW); // (outH, outW)
  for (let j = 0; j < outW; j++) {
    for (let k = 0; k < cropW; k++) {
      const weight = colWeights[j * cropW + k];
      if (weight === 0) continue;
      for (let i = 0; i < outH; i++) small[i * outW + j] += tall[i * cropW + k] * weight;
    }
  }

  const [cy, cx] = centreOfMass(small, outH, outW);
  const row = Math.min(Math.max(roundHalfUp(CENTRE - cy + HALF_PIXEL_NUDGE), 0), SIDE - outH);
  const col = Math.min(Math.max(roundHalfUp(CENTRE - cx + HALF_PIXEL_NUDGE), 0), SIDE - outW);
  const field = new Float32Array(SIDE * SIDE);
  for (let i = 0; i < outH; i++) {
    for (let j = 0; j < outW; j++) {
      field[(row + i) * SIDE + col + j] = Math.min(Math.max(small[i * outW + j], 0), 1);
    }
  }
  return field;
}

/** [top, bottom, left, right], half-open, around the pixels with ink > INK_THRESHOLD. */
export function inkBoundingBox(ink, height, width) {
  let top = height;
  let bottom = -1;
  let left = width;
  let right = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x] > INK_THRESHOLD) {
        if (y < top) top = y;
        if (y > bottom) bottom = y;
        if (x < left) left = x;
        if (x > right) right = x;
      }
    }
  }
  if (bottom < 0) throw new EmptyImageError();
  return [top, bottom + 1, left, right + 1];
}

/** R (nOut x nIn, flat): R[i][k] = share of output cell i covered by input pixel k (rows sum to 1). */
export function areaWeights(nIn, nOut) {
  const cell = nIn / nOut; // input pixels per output pixel
  const weights = new Float64Array(nOut * nIn);
  for (let i = 0; i < nOut; i++) {
    const start = i * cell;
    for (let k = 0; k < nIn; k++) {
      const overlap = Math.min(start + cell, k + 1) - Math.max(start, k);
      weights[i * nIn + k] = Math.max(overlap, 0) / cell;
    }
  }
  return weights;
}

/** Intensity-weighted mean [row, col] in pixel-index coordinates of a flat (height x width) image. */
export function centreOfMass(image, height, width) {
  let mass = 0;
  let rowMoment = 0;
  let colMoment = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const value = image[y * width + x];
      mass += value;
      rowMoment += y * value;
      colMoment += x * value;
    }
  }
  return [rowMoment / mass, colMoment / mass];
}

/** floor(x + 0.5): the same in Python and JavaScript (Math.round differs for negative halves). */
export function roundHalfUp(x) {
  return Math.floor(x + 0.5);
}

/** RGBA bytes (e.g. ImageData.data) of a transparent canvas with opaque strokes -> ink = alpha / 255. */
export function alphaToInk(rgba) {
  const ink = new Float32Array(rgba.length / 4);
  for (let i = 0; i < ink.length; i++) ink[i] = rgba[i * 4 + 3] / 255;
  return ink;
}

// The whole number the pad holds: [data-testid=number] with its digits left to right ("?" for a mark
// the model says is not a digit), and beneath it one small card per digit with its answer, confidence
// and the 28x28 picture the network was given. Reads and writes only #number and #digits; knows
// nothing about drawing or fetching (main.js) or the single digit's bars (view.js).

const SIDE = 28;
const percent = (p) => `${Math.round(p * 100)}%`;

/** The number's text: each digit, or "?" where the prediction says it is not a digit (isDigit === false). */
export function numberText(predictions) {
  return predictions.map((p) => (p.isDigit === false ? "?" : String(p.digit))).join("");
}

export function createNumberView(root = document) {
  const number = root.getElementById("number");
  const digits = root.getElementById("digits");

  function paint(canvas, pixels) {
    const context = canvas.getContext("2d");
    const image = context.createImageData(SIDE, SIDE);
    for (let i = 0; i < SIDE * SIDE; i++) {
      const level = Math.round(pixels[i] * 255);
      image.data.set([level, level, level, 255], i * 4);
    }
    context.putImageData(image, 0, 0);
  }

  return {
    /** Nothing drawn (at `revision`). */
    showEmpty(revision) {
      number.textContent = "–";
      number.dataset.revision = String(revision);
      number.dataset.count = "0";
      digits.replaceChildren();
    },

    /** The answers for the pad at `revision`: predictions[i] for the 784 pixels images[i], left to right. */
    showNumber(predictions, images, revision) {
      number.textContent = numberText(predictions);
      number.dataset.revision = String(revision);
      number.dataset.count = String(predictions.length);
      digits.replaceChildren(
        ...predictions.map((prediction, i) => {
          const item = document.createElement("li");
          item.className = "digit-card";
          item.dataset.digit = String(prediction.digit);
          const canvas = document.createElement("canvas");
          canvas.width = canvas.height = SIDE;
          canvas.setAttribute("role", "img");
          canvas.setAttribute("aria-label", `The 28 by 28 pixel image of digit ${i + 1}`);
          paint(canvas, images[i]);
          const answer = document.createElement("span");
          answer.className = "digit-answer";
          answer.textContent = prediction.isDigit === false ? "?" : String(prediction.digit);
          const confidence = document.createElement("span");
          confidence.className = "digit-confidence";
          confidence.textContent = percent(prediction.confidence);
          item.append(answer, confidence, canvas);
          return item;
        }),
      );
    },
  };
}

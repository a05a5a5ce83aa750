"""Open-set recognition: "is this a digit at all?", and a confidence that means what it says.

Two parts sit beside the digit model (which stays as trained):

- Temperature scaling (Guo et al. 2017): the model's averaged probabilities p (B, 10) become
  p_T = softmax(log p / T), with the one scalar T fitted on the 5,000 validation digits by minimising
  their negative log-likelihood. The argmax never changes; only how sure the answer claims to be.
- A rejector: a small network of backend.nn, features -> hidden -> 2 softmax, trained on digits (MNIST's
  training split and digits drawn with a pen or in a font) against drawings that are not digits
  (negatives.py: letters, shapes, doodles, scribbles, pairs of digits) - the "background class" idea
  of Dhamija et al. 2018, kept as its own small network so the 3.8M-parameter digit model need not be
  retrained. Its features (the card's "inputs") are the 784 pixels, or the digit model's own evidence:
  every ensemble member's last hidden layer side by side (Model.predict_proba_and_hidden, computed in
  the pass that classifies), optionally followed by the pixels. A drawing is a digit when P(digit) >= `threshold`, the calibrated confidence >=
  `min_confidence` (both chosen on validation data only) and it holds at least `min_ink` (half the
  ink of the faintest MNIST training digit: a speck is not a digit, and the rejector never saw one).
- A second look (optional, the card's `second_look` band [lo, hi]): where P(digit) of a picture falls
  inside the band around the threshold, the decision uses P(digit) averaged over the picture and its
  four one-pixel shifts (each with its own hidden layers), a test-time augmentation: a digit stays a
  digit wherever it sits, while a doodle that passes at one exact placement often fails at the next
  (README: 96.8% of validation non-digits rejected against 96.0% with one look). The band is the
  narrowest that gives every validation picture the averaged decision, so the 1-2% of digits inside it
  pay five passes and the rest one. The segmenter's own scoring of cut candidates (PieceReader) takes one look.

Saved as rejector.npz + rejector.json beside model.npz; loading checks like backend/nn/weights.py
(hash, shapes, dtype, finite values, allow_pickle=False) and that the card names the digit model it
was fitted for. What this module leaves out: making the drawings (negatives.py), HTTP (service/).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backend.nn.model import Model
from backend.nn.network import Network, NetworkConfig
from backend.nn.shapes import IMAGE_SIDE, N_INPUTS
from backend.nn.weights import WeightsError, file_sha256, read_arrays, write_weights_and_card

WEIGHTS_FILE = "rejector.npz"
CARD_FILE = "rejector.json"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)  # version 1 cards predate "inputs" and mean pixels
PIXELS, HIDDEN, HIDDEN_AND_PIXELS = "pixels", "hidden", "hidden+pixels"
INPUTS = (PIXELS, HIDDEN, HIDDEN_AND_PIXELS)
ECE_BINS = 15
SECOND_LOOK_SHIFTS = ("up", "down", "left", "right")  # one pixel each; one_pixel_shifts stacks them in this order


# --- calibration --------------------------------------------------------------------------------------


def apply_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T) row by row, computed as p^(1/T) / sum p^(1/T): (B, 10) -> (B, 10) float32, rows summing to 1.

    The max of each row is at least 1/10, so p^(1/T) never underflows to an all-zero row.
    """
    scaled = np.power(np.asarray(probabilities, dtype=np.float32), np.float32(1.0 / temperature))
    scaled /= scaled.sum(axis=1, keepdims=True)
    return scaled


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The T in [0.05, 20] minimising the mean negative log-likelihood of labels (golden-section search on log T)."""

    def nll(log_t: float) -> float:
        p = apply_temperature(probabilities, float(np.exp(log_t)))
        return float(-np.mean(np.log(np.maximum(p[np.arange(len(labels)), labels], 1e-30))))

    low, high = np.log(0.05), np.log(20.0)
    ratio = (np.sqrt(5) - 1) / 2
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    fa, fb = nll(a), nll(b)
    for _ in range(60):
        if fa < fb:
            high, b, fb = b, a, fa
            a = high - ratio * (high - low)
            fa = nll(a)
        else:
            low, a, fa = a, b, fb
            b = low + ratio * (high - low)
            fb = nll(b)
    return float(np.exp((low + high) / 2))


def reliability(confidences: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS) -> dict[str, Any]:
    """Expected calibration error over `bins` equal-width confidence bins, with each bin's figures.

    ECE = sum over bins of (n_bin / N) |accuracy_bin - mean confidence_bin|.
    """
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidences, edges[1:-1], right=True), 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    conf_sum = np.bincount(which, weights=confidences, minlength=bins)
    acc_sum = np.bincount(which, weights=correct.astype(np.float64), minlength=bins)
    filled = count > 0
    mean_conf = np.where(filled, conf_sum / np.maximum(count, 1), 0.0)
    accuracy = np.where(filled, acc_sum / np.maximum(count, 1), 0.0)
    ece = float(np.sum(count * np.abs(accuracy - mean_conf)) / max(len(confidences), 1))
    return {"ece": ece, "edges": edges.tolist(), "count": count.tolist(), "confidence": mean_conf.tolist(), "accuracy": accuracy.tolist()}


# --- the decision ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenSet:
    """Temperature T, the rejector network (features -> ... -> 2; output 0 = P(digit)) and the three thresholds.

    `inputs` says what the rejector reads (one of INPUTS): the pixels (B, 784), the digit model's last
    hidden layers (B, H) or both, hidden first (B, H + 784).
    """

    temperature: float
    rejector: Network
    threshold: float
    min_confidence: float
    min_ink: float = 0.0  # sum of the 784 pixel values
    card: dict[str, Any] = field(default_factory=dict)
    inputs: str = PIXELS
    second_look: tuple[float, float] | None = None  # the P(digit) band [lo, hi] in which the shifted views are averaged in

    @property
    def needs_hidden(self) -> bool:
        """Whether digit_scores and is_digit need the digit model's hidden layers (Model.predict_proba_and_hidden)."""
        return self.inputs != PIXELS

    def features(self, images: np.ndarray, hidden: np.ndarray | None = None) -> np.ndarray:
        """What the rejector reads, (B, its input width), from images (B, 784) and the model's hidden layers (B, H)."""
        return rejector_features(self.inputs, images, hidden)

    def calibrate(self, probabilities: np.ndarray) -> np.ndarray:
        """Calibrated probabilities (B, 10) from the digit model's (B, 10)."""
        return apply_temperature(probabilities, self.temperature)

    def __post_init__(self) -> None:
        # The serving forward pass keeps W(l)^T row-major (one image reads only the rows at its non-zero
        # pixels, as backend/nn/model.py does) and folds the two softmax outputs into one difference:
        # P(digit) = softmax(z)_0 = sigmoid(z_0 - z_1).
        net = self.rejector
        last_w, last_b = net.weights[-1], net.biases[-1]
        object.__setattr__(self, "_weights_t", [np.ascontiguousarray(w.T) for w in net.weights[:-1]])
        object.__setattr__(self, "_difference", (np.ascontiguousarray(last_w[0] - last_w[1]), float(last_b[0] - last_b[1])))

    def digit_scores(self, images: np.ndarray, hidden: np.ndarray | None = None) -> np.ndarray:
        """P(digit) (B,) float32 for images (B, 784) in [0, 1] (and the model's hidden layers (B, H) when
        needs_hidden); the same numbers as rejector.predict_proba(features(images, hidden))[:, 0]."""
        a = np.asarray(self.features(images, hidden), dtype=np.float32)
        if self.rejector.config.activation != "relu":
            return self.rejector.predict_proba(a)[:, 0]
        for l, (w_t, b) in enumerate(zip(self._weights_t, self.rejector.biases)):
            if l == 0 and len(a) == 1:
                used = np.flatnonzero(a[0])
                a = a[:, used] @ w_t[used]  # (1,k)@(k,n1): only the rows of W(1)^T at the k non-zero inputs
            else:
                a = a @ w_t  # (B,n_in)@(n_in,n_out) -> (B,n_out)
            a += b
            np.maximum(a, 0, out=a)
        w_difference, b_difference = self._difference
        return (1.0 / (1.0 + np.exp(-(a @ w_difference + b_difference)))).astype(np.float32)

    def judged_scores(self, images: np.ndarray, hidden: np.ndarray | None = None, model: Model | None = None) -> np.ndarray:
        """P(digit) (B,) as the decision uses it: digit_scores, except inside the second-look band, where it is the
        mean over each picture and its four one-pixel shifts; `model` gives the shifts' hidden layers when needs_hidden."""
        scores = self.digit_scores(images, hidden)
        if self.second_look is None:
            return scores
        low, high = self.second_look
        borderline = np.flatnonzero((scores >= low) & (scores <= high))
        if len(borderline) == 0:
            return scores
        if self.needs_hidden and model is None:
            raise ValueError("the second look needs the digit model, for the shifted pictures' hidden layers")
        views = one_pixel_shifts(images[borderline])  # (4k, 784)
        view_hidden = model.predict_proba_and_hidden(views)[1] if self.needs_hidden else None
        view_scores = self.digit_scores(views, view_hidden).reshape(len(SECOND_LOOK_SHIFTS), len(borderline))  # (4, k)
        scores = scores.copy()
        scores[borderline] = (scores[borderline] + view_scores.sum(axis=0)) / (1 + len(SECOND_LOOK_SHIFTS))
        return scores

    def is_digit(
        self, images: np.ndarray, calibrated: np.ndarray, hidden: np.ndarray | None = None, model: Model | None = None
    ) -> np.ndarray:
        """(B,) bool: the rejector's P(digit), the calibrated confidence (B, 10 -> max) and the ink all clear their thresholds.

        `hidden` (B, H): the digit model's hidden layers, needed when needs_hidden; `model`: the digit model,
        needed for a second look. A picture without any ink is never a digit.
        """
        return self.accepts(images, calibrated, self.judged_scores(images, hidden, model))

    def accepts(self, images: np.ndarray, calibrated: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """(B,) bool: is_digit for P(digit) scores (B,) already judged."""
        enough_ink = (images.sum(axis=1) >= self.min_ink) & images.any(axis=1)
        return decide(scores, calibrated.max(axis=1), self.threshold, self.min_confidence) & enough_ink


def one_pixel_shifts(images: np.ndarray) -> np.ndarray:
    """(4B, 784): images (B, 784) moved one pixel up, down, left and right (SECOND_LOOK_SHIFTS), ink pushed
    off an edge lost and the new row or column empty; all B moved up first, then all moved down, and so on."""
    grids = images.reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    views = np.zeros((len(SECOND_LOOK_SHIFTS), *grids.shape), dtype=images.dtype)
    views[0, :, :-1] = grids[:, 1:]  # up
    views[1, :, 1:] = grids[:, :-1]  # down
    views[2, :, :, :-1] = grids[:, :, 1:]  # left
    views[3, :, :, 1:] = grids[:, :, :-1]  # right
    return views.reshape(-1, N_INPUTS)


def rejector_features(inputs: str, images: np.ndarray, hidden: np.ndarray | None) -> np.ndarray:
    """The features a rejector reading `inputs` (one of INPUTS) takes: images (B, 784), hidden (B, H) or both, hidden first."""
    if inputs == PIXELS:
        return images
    if hidden is None:
        raise ValueError(f"a rejector reading {inputs!r} needs the digit model's hidden layers")
    return hidden if inputs == HIDDEN else np.concatenate([hidden, images], axis=1)


def decide(scores: np.ndarray, confidences: np.ndarray, threshold: float, min_confidence: float) -> np.ndarray:
    return (scores >= threshold) & (confidences >= min_confidence)


class PieceReader:
    """A digit model (and its rejector) reading candidate pieces (B, 784), as segment.segment_number asks:
    classify() gives probabilities (B, 10), digit_score() the rejector's P(digit) (B,). When the rejector
    reads the model's hidden layers, the pass that classified a batch also gives its scores."""

    def __init__(self, model: Model, open_set: OpenSet | None) -> None:
        self.model = model
        self.open_set = open_set
        self._last: tuple[np.ndarray, np.ndarray] | None = None  # (pieces, their hidden layers) of the last classify

    def classify(self, pieces: np.ndarray) -> np.ndarray:
        if self.open_set is None or not self.open_set.needs_hidden:
            return self.model.predict_proba(pieces)
        probabilities, hidden = self.model.predict_proba_and_hidden(pieces)
        self._last = (pieces, hidden)
        return probabilities

    def digit_score(self, pieces: np.ndarray) -> np.ndarray:
        assert self.open_set is not None, "no rejector to score with"
        if not self.open_set.needs_hidden:
            return self.open_set.digit_scores(pieces)
        if self._last is not None and self._last[0] is pieces:
            hidden = self._last[1]
        else:
            hidden = self.model.predict_proba_and_hidden(pieces)[1]
        return self.open_set.digit_scores(pieces, hidden)


# --- saving and loading ---------------------------------------------------------------------------------


def array_key(kind: str, layer: int) -> str:
    return f"{kind}{layer}"  # W1, b1, W2, ... (layers count from 1, as in the math)


def save_open_set(open_set: OpenSet, directory: str | os.PathLike, card: dict[str, Any]) -> Path:
    """Write rejector.npz and rejector.json atomically (temporary names, then rename); return the card path."""
    directory = Path(directory)
    net = open_set.rejector
    arrays = {}
    for l, (w, b) in enumerate(zip(net.weights, net.biases), start=1):
        arrays[array_key("W", l)] = np.ascontiguousarray(w, dtype=np.float32)
        arrays[array_key("b", l)] = np.ascontiguousarray(b, dtype=np.float32)

    def card_for(sha: str) -> dict[str, Any]:
        return {
            **card,
            "format_version": FORMAT_VERSION,
            "temperature": open_set.temperature,
            "threshold": open_set.threshold,
            "min_confidence": open_set.min_confidence,
            "min_ink": open_set.min_ink,
            "inputs": open_set.inputs,
            "second_look": None if open_set.second_look is None else list(open_set.second_look),
            "rejector": {
                "layer_sizes": list(net.config.layer_sizes),
                "activation": net.config.activation,
                "output_activation": net.config.output_activation,
            },
            "weights_file": WEIGHTS_FILE,
            "weights_sha256": sha,
        }

    return write_weights_and_card(directory, arrays, card_for, WEIGHTS_FILE, CARD_FILE)


def has_open_set(directory: str | os.PathLike) -> bool:
    return (Path(directory) / CARD_FILE).is_file()


def load_open_set(directory: str | os.PathLike, digit_model_id: str | None = None, hidden_width: int | None = None) -> OpenSet:
    """Load and check rejector.json + rejector.npz; WeightsError naming the file on any problem.

    With `digit_model_id`, the card must say it was fitted for that digit model (its temperature and
    thresholds mean nothing for another); with `hidden_width` (H, the width of that model's
    predict_proba_and_hidden), a rejector reading hidden layers must take exactly that many.
    """
    directory = Path(directory)
    card_path = directory / CARD_FILE
    try:
        card = json.loads(card_path.read_text())
    except FileNotFoundError:
        raise WeightsError(f"{card_path}: rejector card not found") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise WeightsError(f"{card_path}: not valid JSON ({err})") from None
    if not isinstance(card, dict):
        raise WeightsError(f"{card_path}: the rejector card is not a JSON object")
    needed = ("format_version", "temperature", "threshold", "min_confidence", "min_ink", "rejector", "weights_sha256", "digit_model_id")
    missing = [k for k in needed if k not in card]
    if missing:
        raise WeightsError(f"{card_path}: the rejector card lacks {missing}")
    if card["format_version"] not in READABLE_VERSIONS:
        raise WeightsError(f"{card_path}: format_version {card['format_version']}, this code reads {list(READABLE_VERSIONS)}")
    inputs = card.get("inputs", PIXELS)
    if inputs not in INPUTS:
        raise WeightsError(f"{card_path}: inputs {inputs!r} is not one of {list(INPUTS)}")
    if digit_model_id is not None and card["digit_model_id"] != digit_model_id:
        raise WeightsError(f"{card_path}: fitted for digit model {card['digit_model_id']!r}, but the model served is {digit_model_id!r}")
    numbers = {k: card[k] for k in ("temperature", "threshold", "min_confidence", "min_ink")}
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in numbers.values()):
        raise WeightsError(f"{card_path}: temperature and thresholds must be finite numbers, got {numbers}")
    if not (card["temperature"] > 0 and 0 <= card["threshold"] <= 1 and 0 <= card["min_confidence"] <= 1 and card["min_ink"] >= 0):
        raise WeightsError(f"{card_path}: need temperature > 0, thresholds in [0, 1] and min_ink >= 0, got {numbers}")
    second_look = _second_look(card.get("second_look"), float(card["threshold"]), card_path)
    weights_path = directory / card.get("weights_file", WEIGHTS_FILE)
    if not weights_path.is_file():
        raise WeightsError(f"{weights_path}: rejector weights not found")
    sha = file_sha256(weights_path)
    if sha != card["weights_sha256"]:
        raise WeightsError(f"{weights_path}: SHA-256 {sha} does not match the {card['weights_sha256']} recorded in {card_path}")
    net = _build(card["rejector"], read_arrays(weights_path), weights_path, inputs, hidden_width)
    return OpenSet(
        float(card["temperature"]),
        net,
        float(card["threshold"]),
        float(card["min_confidence"]),
        float(card["min_ink"]),
        card,
        inputs,
        second_look,
    )


def _second_look(band: Any, threshold: float, card_path: Path) -> tuple[float, float] | None:
    """The card's second_look: null (one look) or [lo, hi] with 0 <= lo <= threshold <= hi <= 1."""
    if band is None:
        return None
    numbers = isinstance(band, list) and len(band) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in band)
    if not numbers or not (0 <= band[0] <= threshold <= band[1] <= 1):
        raise WeightsError(
            f"{card_path}: second_look must be null or [lo, hi] with 0 <= lo <= threshold ({threshold}) <= hi <= 1, got {band!r}"
        )
    return float(band[0]), float(band[1])


def hidden_width(model: Model) -> int:
    """H: how many hidden units Model.predict_proba_and_hidden gives side by side (each member's last hidden layer)."""
    return sum(net.config.layer_sizes[-2] for net in model.members)


def input_width(inputs: str, hidden_width: int) -> int:
    """The rejector's input width for `inputs` beside a digit model whose hidden layers are H = hidden_width wide."""
    return {PIXELS: N_INPUTS, HIDDEN: hidden_width, HIDDEN_AND_PIXELS: hidden_width + N_INPUTS}[inputs]


def _build(spec: Any, arrays: dict[str, np.ndarray], path: Path, inputs: str, hidden_width: int | None) -> Network:
    try:
        config = NetworkConfig(tuple(spec["layer_sizes"]), spec["activation"], spec["output_activation"])
    except (KeyError, TypeError, ValueError) as err:
        raise WeightsError(f"{path}: the card's rejector is not a valid architecture ({err})") from None
    sizes = config.layer_sizes
    if sizes[-1] != 2 or config.output_activation != "softmax":
        raise WeightsError(f"{path}: a rejector ends in 2 softmax outputs, the card says {sizes}")
    if inputs == PIXELS or hidden_width is not None:
        width = input_width(inputs, hidden_width or 0)
        if sizes[0] != width:
            raise WeightsError(f"{path}: a rejector reading {inputs!r} takes {width} inputs here, the card says {sizes}")
    weights, biases = [], []
    for l in range(1, len(sizes)):
        for kind, shape, into in (("W", (sizes[l], sizes[l - 1]), weights), ("b", (sizes[l],), biases)):
            key = array_key(kind, l)
            array = arrays.get(key)
            if array is None:
                raise WeightsError(f"{path}: array {key} is missing")
            if array.shape != shape or array.dtype != np.float32:
                raise WeightsError(f"{path}: array {key} is {array.dtype}{array.shape}, the card implies float32{shape}")
            if not np.isfinite(array).all():
                raise WeightsError(f"{path}: array {key} holds NaN or infinite values")
            into.append(array)
    extra = set(arrays) - {array_key(k, l) for l in range(1, len(sizes)) for k in "Wb"}
    if extra:
        raise WeightsError(f"{path}: arrays not described by the card: {sorted(extra)}")
    return Network(config, weights, biases)

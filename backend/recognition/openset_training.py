"""Fitting the open-set parts (openset.py) and measuring them: training data, the rejector, thresholds, OSCR.

Recipe (RejectorRecipe, recorded in the card): positives are MNIST's 55,000 training digits plus
digits drawn with a pen or in a training font (negatives.make_drawn_digits) and, made anew every
epoch (`fresh_positives`, `fresh_share` of the epoch's positives), training digits as the number
segmenter cuts them out of numbers (number_pieces.py); negatives are
negatives.make_negatives(split="train"). All are distorted afresh every epoch with the digit model's
own augmentation (backend.nn.augment), and classes are weighted equally. The rejector reads
`recipe.inputs` (openset.INPUTS): with the digit model's hidden layers, those are recomputed from the
distorted pictures every epoch (the frozen model, one forward pass). Each input column is scaled to
unit spread for training and the scale folded into W(1) afterwards, so the saved rejector reads raw
features. The network is trained with backend.nn's forward/backward and Adam, cosine schedule, dropout. Then, on validation data only:
T is fitted on the 5,000 validation digits, `threshold` is the P(digit) quantile that keeps
`keep_mnist` of the validation digits, `keep_drawn` of validation drawn digits and `keep_pieces` of
validation digits cut out of numbers (the lowest of the three), and `min_confidence` is the lowest
calibrated confidence at which the accepted validation digits are read right at least
`accuracy_target` of the time, but never so high that fewer than `accept_target` of them are
accepted; `min_ink` is half the ink of the faintest training digit. With `second_look`, the three
quantiles and the floor are taken on P(digit) averaged over each picture and its four one-pixel shifts,
and the band where the served rule takes that second look is the narrowest that gives every validation
picture (digits, drawn digits, pieces and validation non-digits) the averaged decision (second_look_band).
What this module leaves out: files (openset.py), the command line.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from backend.nn.augment import AugmentConfig, augment
from backend.nn.costs import get_cost
from backend.nn.model import Model
from backend.nn.network import Network, NetworkConfig
from backend.nn.optimizers import Optimizer, OptimizerConfig, ScheduleConfig, scheduled_rate
from backend.nn.shapes import N_INPUTS
from backend.recognition.openset import HIDDEN, HIDDEN_AND_PIXELS, PIXELS, OpenSet, decide, fit_temperature, rejector_features

DIGIT, NOT_DIGIT = 0, 1  # the rejector's two outputs


@dataclass(frozen=True)
class RejectorRecipe:
    inputs: str = HIDDEN
    hidden: tuple[int, ...] = (128,)
    epochs: int = 36
    per_class: int = 30_000  # images of each class per epoch, drawn afresh from the pool
    batch_size: int = 128
    learning_rate: float = 1e-3
    dropout: float = 0.2
    negatives: int = 48_000
    drawn_digits: int = 10_000
    validation_negatives: int = 4_000
    validation_drawn_digits: int = 2_000
    fresh_share: float = 0.15  # of each epoch's positives: digits cut out of numbers, made for that epoch
    validation_number_pieces: int = 2_000
    keep_mnist: float = 0.994  # the shipped point: 0.995 let 1.2 points more validation non-digits through (README)
    keep_drawn: float = 0.985
    keep_pieces: float = 0.98
    accuracy_target: float = 0.998  # on accepted validation digits: the bar is 99.7%, with a margin
    accept_target: float = 0.993  # of validation digits accepted: the bar (no margin left: see the README)
    second_look: bool = True  # thresholds on P(digit) averaged over the one-pixel shifts, taken where it may matter
    augment: AugmentConfig = AugmentConfig(
        rotation_deg=10.0, scale=0.1, shear=0.15, shift_px=1.5, elastic_alpha=20.0, stroke_probability=0.3
    )
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def features_of(inputs: str, model: Model, images: np.ndarray, chunk: int = 4_096) -> np.ndarray:
    """The rejector's features (B, F) of images (B, 784) for `inputs` (openset.INPUTS), a chunk at a time."""
    if inputs == PIXELS:
        return images
    chunks = [images[i : i + chunk] for i in range(0, len(images), chunk)]
    return np.concatenate([rejector_features(inputs, x, model.predict_proba_and_hidden(x)[1]) for x in chunks])


def train_rejector(
    recipe: RejectorRecipe,
    positives: np.ndarray,
    negatives: np.ndarray,
    on_epoch: Callable[[int, float, float], None] | None = None,
    model: Model | None = None,
    fresh_positives: Callable[[int, np.random.Generator], np.ndarray] | None = None,
) -> Network:
    """The rejector network (features -> hidden -> 2 softmax) trained on positives (P, 784) vs negatives (N, 784).

    Each epoch draws `per_class` images of each class afresh (with replacement only where a class
    has fewer), so both weigh the same and an epoch costs the same whatever the pools' sizes.
    `model`: the digit model whose hidden layers the rejector reads (needed unless recipe.inputs is pixels).
    fresh_positives(n, rng) -> (n, 784): positives made anew each epoch, `recipe.fresh_share` of them.
    on_epoch(epoch, mean loss, seconds) reports progress.
    """
    rng = np.random.default_rng(recipe.seed)
    assert recipe.inputs == PIXELS or model is not None, f"inputs {recipe.inputs!r} need the digit model"

    def featurize(images: np.ndarray) -> np.ndarray:
        return images if model is None else features_of(recipe.inputs, model, images)

    # Hidden units are scaled by one number to the spread of the pixels' order (their std over a sample
    # of both classes); one shared scale keeps near-dead units from being blown up. Pixels stay in [0, 1].
    sample = featurize(np.concatenate([positives[:: max(1, len(positives) // 2_000)], negatives[:: max(1, len(negatives) // 2_000)]]))
    n_in = sample.shape[1]
    n_hidden = {PIXELS: 0, HIDDEN: n_in, HIDDEN_AND_PIXELS: n_in - N_INPUTS}[recipe.inputs]
    scale = np.ones(n_in, np.float32)
    if n_hidden:
        scale[:n_hidden] = 1.0 / max(float(sample[:, :n_hidden].std()), 1e-3)
    net = Network.initialise(NetworkConfig((n_in, *recipe.hidden, 2), activation="relu", output_activation="softmax"), rng)
    optimizer = Optimizer(OptimizerConfig(name="adam", learning_rate=recipe.learning_rate), net.parameters)
    size = recipe.per_class
    batches = -(-2 * size // recipe.batch_size)
    total, step = recipe.epochs * batches, 0
    targets = np.zeros((2 * size, 2), dtype=np.float32)
    targets[:size, DIGIT] = 1
    targets[size:, NOT_DIGIT] = 1
    cross_entropy = get_cost("cross_entropy")
    for epoch in range(1, recipe.epochs + 1):
        started = time.perf_counter()
        fresh = int(size * recipe.fresh_share) if fresh_positives else 0
        pos = positives[rng.choice(len(positives), size - fresh, replace=len(positives) < size - fresh)]
        if fresh:
            pos = np.concatenate([pos, fresh_positives(fresh, rng)])
        neg = negatives[rng.choice(len(negatives), size, replace=len(negatives) < size)]
        x = featurize(augment(np.concatenate([pos, neg]), rng, recipe.augment)) * scale
        order = rng.permutation(2 * size)
        running = 0.0
        for b in range(batches):
            idx = order[b * recipe.batch_size : (b + 1) * recipe.batch_size]
            lr = scheduled_rate(recipe.learning_rate, ScheduleConfig(name="cosine", warmup=0.02), step / total)
            cache = net.forward_train(x[idx], rng, recipe.dropout)
            delta = cross_entropy.delta(net.output_activation, cache.output, targets[idx])
            optimizer.step(net.backward(cache, delta), lr)
            loss = cross_entropy.value(cache.output, targets[idx])
            running += (loss - running) / (b + 1)
            step += 1
        if on_epoch:
            on_epoch(epoch, running, time.perf_counter() - started)
    net.weights[0] *= scale  # (n1, F) * (F,): W(1) (x * scale) = (W(1) * scale) x, so the rejector reads raw features
    return net


def choose_thresholds(
    recipe: RejectorRecipe,
    rejector: Network,
    temperature: float,
    model: Model,
    mnist_validation: np.ndarray,
    labels: np.ndarray,
    drawn_validation: np.ndarray,
    pieces_validation: np.ndarray,
    negatives_validation: np.ndarray | None = None,
) -> tuple[float, float, tuple[float, float] | None]:
    """(threshold, min_confidence, second_look band or None) from validation data only: digits (M, 784) with
    their labels (M,), drawn digits (D, 784), digits cut out of numbers (P, 784) and, for the band, drawings
    that are not digits (N, 784)."""
    one_look = OpenSet(temperature, rejector, 0.0, 0.0, inputs=recipe.inputs)
    negatives = np.zeros((0, N_INPUTS), np.float32) if negatives_validation is None else negatives_validation
    sets = [mnist_validation, drawn_validation, pieces_validation, negatives]
    scored = [scores_of(one_look, model, x, second_look=recipe.second_look) for x in sets]
    plain, looked = [p for p, _ in scored], [s for _, s in scored]
    keeps = (recipe.keep_mnist, recipe.keep_drawn, recipe.keep_pieces)
    quantiles = [np.quantile(s, 1 - keep) for s, keep in zip(looked, keeps) if len(s)]  # an empty set keeps nothing to choose by
    threshold = float(min(quantiles))
    calibrated = one_look.calibrate(model.predict_proba(mnist_validation))
    floor = confidence_floor(looked[0] >= threshold, calibrated, labels, recipe.accuracy_target, recipe.accept_target)
    band = second_look_band(np.concatenate(plain), np.concatenate(looked), threshold) if recipe.second_look else None
    return threshold, floor, band


def scores_of(
    open_set: OpenSet, model: Model, images: np.ndarray, second_look: bool = False, chunk: int = 4_096
) -> tuple[np.ndarray, np.ndarray]:
    """P(digit) (B,) of images (B, 784) at one look, and the P(digit) (B,) the threshold is chosen on: with
    second_look, every picture's mean over itself and its four one-pixel shifts (the band [0, 1]); else the
    one-look scores again. A chunk at a time; one pass of the model over the pictures serves both."""
    looking = dataclasses.replace(open_set, second_look=(0.0, 1.0))
    plain, looked = [], []
    for i in range(0, len(images), chunk):
        x = images[i : i + chunk]
        hidden = model.predict_proba_and_hidden(x)[1] if open_set.needs_hidden else None
        plain.append(open_set.digit_scores(x, hidden))
        looked.append(looking.judged_scores(x, hidden, model) if second_look else plain[-1])
    if not plain:
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    return np.concatenate(plain), np.concatenate(looked)


def second_look_band(plain: np.ndarray, looked: np.ndarray, threshold: float) -> tuple[float, float]:
    """The narrowest band [lo, hi] around `threshold` such that judging by `looked` (N,) where `plain` (N,) lies
    inside it, and by `plain` elsewhere, gives every picture the decision `looked >= threshold` gives it."""
    low = min(threshold, float(plain[looked >= threshold].min(initial=threshold)))
    high = max(threshold, float(plain[looked < threshold].max(initial=threshold)))
    return low, high


def confidence_floor(passed: np.ndarray, calibrated: np.ndarray, labels: np.ndarray, accuracy_target: float, accept_target: float) -> float:
    """The lowest calibrated confidence at which the digits that pass the rejector (passed (M,) bool) and
    reach it are read right at least `accuracy_target` of the time, or the highest that still accepts
    `accept_target` of all M digits, whichever is lower. calibrated (M, 10), labels (M,)."""
    confidence = calibrated.max(axis=1)
    right = calibrated.argmax(axis=1) == labels
    candidates = np.unique(np.concatenate([[0.0], confidence[passed]]))  # ascending
    for floor in candidates:
        accepted = passed & (confidence >= floor)
        if accepted.mean() < accept_target:
            break
        if right[accepted].mean() >= accuracy_target:
            return float(floor)
    # the accuracy target needs more refused than accept_target allows: the highest floor that keeps it
    allowed = [floor for floor in candidates if (passed & (confidence >= floor)).mean() >= accept_target]
    return float(allowed[-1]) if allowed else 0.0


def fit_open_set(
    recipe: RejectorRecipe,
    rejector: Network,
    model: Model,
    validation_images: np.ndarray,
    validation_labels: np.ndarray,
    drawn_validation: np.ndarray,
    train_images: np.ndarray,
    pieces_validation: np.ndarray | None = None,
    negatives_validation: np.ndarray | None = None,
) -> OpenSet:
    """T, threshold, min_confidence and the second-look band fitted on validation data only (see the module
    docstring); pieces_validation (P, 784): validation digits cut out of numbers (none: the threshold keeps only
    digits and drawn digits); negatives_validation (N, 784): validation non-digits, which the band also covers."""
    temperature = fit_temperature(model.predict_proba(validation_images), validation_labels)
    pieces = np.zeros((0, N_INPUTS), np.float32) if pieces_validation is None else pieces_validation
    threshold, min_confidence, band = choose_thresholds(
        recipe, rejector, temperature, model, validation_images, validation_labels, drawn_validation, pieces, negatives_validation
    )
    return OpenSet(
        temperature, rejector, threshold, min_confidence, min_ink=min_ink_of(train_images), inputs=recipe.inputs, second_look=band
    )


def min_ink_of(digits: np.ndarray) -> float:
    """Half the ink (sum of the 784 values) of the faintest of `digits` (N, 784)."""
    return float(0.5 * digits.sum(axis=1).min())


# --- measuring --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Judged:
    """What the open-set model says about images (B, 784): calibrated probabilities, P(digit), is_digit."""

    calibrated: np.ndarray
    scores: np.ndarray
    accepted: np.ndarray

    @property
    def predicted(self) -> np.ndarray:
        return self.calibrated.argmax(axis=1)


def judge(model: Model, open_set: OpenSet, images: np.ndarray, chunk: int = 2_000) -> Judged:
    parts = []
    for i in range(0, len(images), chunk):
        x = images[i : i + chunk]
        probabilities, hidden = model.predict_proba_and_hidden(x) if open_set.needs_hidden else (model.predict_proba(x), None)
        calibrated = open_set.calibrate(probabilities)
        scores = open_set.judged_scores(x, hidden, model)
        parts.append((calibrated, scores, open_set.accepts(x, calibrated, scores)))
    return Judged(*(np.concatenate(p) for p in zip(*parts)))


def oscr_curve(known: Judged, labels: np.ndarray, unknown: Judged, open_set: OpenSet) -> dict[str, list[float]]:
    """Open-set classification rate (Dhamija et al. 2018): as the P(digit) threshold sweeps, the share of
    known digits accepted and read right (CCR) against the share of unknowns accepted (FPR); the
    calibrated-confidence floor stays as chosen."""
    thresholds = np.unique(
        np.concatenate([[0.0, 1.0], np.quantile(np.concatenate([known.scores, unknown.scores]), np.linspace(0, 1, 400))])
    )
    right = known.predicted == labels
    known_conf, unknown_conf = known.calibrated.max(axis=1), unknown.calibrated.max(axis=1)
    ccr, fpr = [], []
    for t in thresholds:
        ccr.append(float(np.mean(decide(known.scores, known_conf, t, open_set.min_confidence) & right)))
        fpr.append(float(np.mean(decide(unknown.scores, unknown_conf, t, open_set.min_confidence))))
    return {"threshold": thresholds.tolist(), "ccr": ccr, "fpr": fpr}

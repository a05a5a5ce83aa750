"""The open-set report: how the digit model with its rejector does on digits and on drawings that are not.

Scored sets (none of them used to fit or choose anything):
  - the 10,000 MNIST test digits: argmax accuracy, share accepted as digits, accuracy on the accepted
    ones, expected calibration error (15 bins) before and after temperature scaling;
  - negatives.make_negatives(split="report"): held-out fonts, held-out shapes, the report seeds,
    digit pairs made of test digits: share rejected, overall and per kind, per font, per shape;
  - negatives.make_drawn_digits(split="report"): digits drawn with a pen or in a held-out font: share
    accepted and read right, overall and per source (pen strokes, each font) when the sources are given;
  - the OSCR curve (correct-classification rate against false-accept rate) and the reliability diagram.
What this module leaves out: drawing the figures (scripts/evaluate.py, with matplotlib).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backend.nn.model import Model
from backend.recognition.negatives import DrawnSet
from backend.recognition.openset import OpenSet, reliability
from backend.recognition.openset_training import judge, oscr_curve


def open_set_report(
    model: Model,
    open_set: OpenSet,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    negatives: DrawnSet,
    drawn_images: np.ndarray,
    drawn_labels: np.ndarray,
    drawn_sources: np.ndarray | None = None,
) -> dict[str, Any]:
    """The report's figures; drawn_sources (N,) (negatives.make_drawn_digits_by_source) splits the drawn digits' by source."""
    digits = judge(model, open_set, test_images)
    others = judge(model, open_set, negatives.images)
    drawn = judge(model, open_set, drawn_images)
    right = digits.predicted == test_labels
    raw_confidence = model.predict_proba(test_images).max(axis=1)
    rejected = ~others.accepted
    kinds, details = negatives.kind_of(1), negatives.kind_of(2)
    curve = oscr_curve(digits, test_labels, others, open_set)
    drawn_right = drawn.accepted & (drawn.predicted == drawn_labels)
    return {
        "temperature": open_set.temperature,
        "threshold": open_set.threshold,
        "min_confidence": open_set.min_confidence,
        "mnist_test": {
            "n": int(len(test_labels)),
            "accuracy": float(right.mean()),
            "accepted": float(digits.accepted.mean()),
            "accuracy_on_accepted": float(right[digits.accepted].mean()),
            "accepted_and_right": float((right & digits.accepted).mean()),
            "ece": reliability(digits.calibrated.max(axis=1), right)["ece"],
            "ece_uncalibrated": reliability(raw_confidence, right)["ece"],
        },
        "negatives": {
            "n": int(len(rejected)),
            "rejected": float(rejected.mean()),
            "rejected_by_kind": _shares(rejected, kinds),
            "rejected_by_font": _shares(rejected[kinds == "font_letters"], details[kinds == "font_letters"]),
            "rejected_by_shape": _shares(rejected[kinds == "shapes"], details[kinds == "shapes"]),
            "rejected_by_stroke_letter": _shares(rejected[kinds == "stroke_letters"], details[kinds == "stroke_letters"]),
        },
        "drawn_digits": {
            "n": int(len(drawn_labels)),
            "accepted_and_right": float(drawn_right.mean()),
            "accepted": float(drawn.accepted.mean()),
            **({"accepted_and_right_by_source": _shares(drawn_right, drawn_sources)} if drawn_sources is not None else {}),
        },
        "reliability": reliability(digits.calibrated.max(axis=1), right),
        "reliability_uncalibrated": reliability(raw_confidence, right),
        "oscr": curve,
        "oscr_auc": float(_area(curve["fpr"], curve["ccr"])),
    }


def _shares(flags: np.ndarray, groups: np.ndarray) -> dict[str, dict[str, float | int]]:
    return {str(g): {"n": int((groups == g).sum()), "share": float(flags[groups == g].mean())} for g in sorted(set(groups.tolist()))}


def _area(x: list[float], y: list[float]) -> float:
    """Area under y(x) by trapezoids, x sorted ascending."""
    order = np.argsort(x, kind="stable")
    xs, ys = np.asarray(x)[order], np.asarray(y)[order]
    return float(np.sum((xs[1:] - xs[:-1]) * (ys[1:] + ys[:-1]) / 2))

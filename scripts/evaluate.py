#!/usr/bin/env python3
"""Score saved weights on the 10,000 MNIST test images, and on distorted copies of them.

    python scripts/evaluate.py --data-dir ../shared/datasets/mnist --json
    python scripts/evaluate.py --weights /tmp/fast --no-robustness
    python scripts/evaluate.py --data feedback.npz --json     # on collected corrections instead (scripts/export_feedback.py)

With --json, prints one JSON object: accuracy (fraction), n, confusion (10x10, rows = true digit),
model_id, card_test_accuracy, and robustness (accuracy per distortion, see backend/recognition/evaluation.py).
With --data FILE the images are that corrections file's instead of MNIST's test set: the report has
data (file, sha256), accuracy, n, confusion and logged_accuracy (how often the answers given when the
drawings were sent were right).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from backend.nn.mnist import load_mnist
from backend.nn.weights import load_model
from backend.paths import MODEL_DIR
from backend.recognition.corrections import CorrectionsError, digest_of, load_corrections
from backend.recognition.evaluation import robustness_report, score_test_set


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", help="MNIST folder (default: $MNIST_DIR, else .data/mnist)")
    p.add_argument("--weights", type=Path, default=MODEL_DIR, help="folder with model.npz and model.json")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-robustness", action="store_true", help="only the plain test set")
    p.add_argument("--data", type=Path, help="score on this corrections .npz (scripts/export_feedback.py) instead of MNIST's test set")
    args = p.parse_args(argv)

    model, card = load_model(args.weights)
    if args.data:
        return report_corrections(model, card, args.data, args.json)
    test = load_mnist(args.data_dir).test
    report = {
        "model_id": card.get("model_id"),
        **score_test_set(model, test.images, test.labels),
        "card_test_accuracy": card.get("test_accuracy"),
    }
    if not args.no_robustness:
        report["robustness"] = robustness_report(model, test.images, test.labels)

    if args.json:
        print(json.dumps(report))
        return 0
    print(f"model {report['model_id']}: test accuracy {report['accuracy']:.4f} on {report['n']} images")
    for name, value in report.get("robustness", {}).items():
        print(f"  {name:24s} {value:.4f}")
    return 0


def report_corrections(model, card: dict, path: Path, as_json: bool) -> int:
    try:
        data = load_corrections(path)
    except CorrectionsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    labels = data.labels.astype("int64")
    report = {
        "model_id": card.get("model_id"),
        "data": {"file": str(path), "sha256": digest_of(path)},
        **(score_test_set(model, data.inputs(), labels) if len(data) else {"accuracy": None, "n": 0, "confusion": None}),
        "logged_accuracy": float((data.predicted == data.labels).mean()) if len(data) else None,
    }
    if as_json:
        print(json.dumps(report))
    elif len(data):
        print(f"model {report['model_id']}: accuracy {report['accuracy']:.4f} on {report['n']} corrections from {path}")
        print(f"  the answers given when they were sent: {report['logged_accuracy']:.4f}")
    else:
        print(f"{path} holds no corrections")
    return 0


if __name__ == "__main__":
    sys.exit(main())

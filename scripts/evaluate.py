#!/usr/bin/env python3
"""Score saved weights on the 10,000 MNIST test images, and on distorted copies of them.

    python scripts/evaluate.py --data-dir ../shared/datasets/mnist --json
    python scripts/evaluate.py --weights /tmp/fast --no-robustness
    python scripts/evaluate.py --how-it-learned  # the "how it learned" page's data and the README's charts
    python scripts/evaluate.py --data feedback.npz --json     # on collected corrections instead (scripts/export_feedback.py)
    python scripts/evaluate.py --open-set --figures docs     # + the open-set report and its two pictures

With --how-it-learned, writes frontend/data/how-it-learned.json (every preset's card figures and learning
curve, the shipped model's confusion matrix and the test digits it gets wrong) and, with matplotlib
(the dev extra), docs/how-it-learned/curves.png and confusion.png; it scores nothing else.
With --json, prints one JSON object: accuracy (fraction), n, confusion (10x10, rows = true digit),
model_id, card_test_accuracy, and robustness (accuracy per distortion, see backend/recognition/evaluation.py).
With --data FILE the images are that corrections file's instead of MNIST's test set: the report has
data (file, sha256), accuracy, n, confusion and logged_accuracy (how often the answers given when the
drawings were sent were right).
--open-set adds "open_set" (backend/recognition/openset_report.py): test digits accepted and read right,
calibration error, held-out non-digit drawings rejected per kind, font and shape, drawn digits; with
--figures DIR it writes DIR/oscr.png and DIR/reliability.png (needs matplotlib, in the dev extra).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from backend.nn.mnist import load_mnist
from backend.nn.weights import load_model
from backend.paths import MODEL_DIR, PROJECT_ROOT
from backend.recognition.corrections import CorrectionsError, digest_of, load_corrections
from backend.recognition.evaluation import robustness_report, score_test_set
from backend.recognition.learning import LEARNED_JSON, how_it_learned
from backend.recognition.negatives import make_drawn_digits_by_source, make_negatives
from backend.recognition.openset import hidden_width, load_open_set
from backend.recognition.openset_report import open_set_report

CHARTS_DIR = PROJECT_ROOT / "docs" / "how-it-learned"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", help="MNIST folder (default: $MNIST_DIR, else .data/mnist)")
    p.add_argument("--weights", type=Path, default=MODEL_DIR, help="folder with model.npz and model.json")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-robustness", action="store_true", help="only the plain test set")
    p.add_argument("--how-it-learned", action="store_true", help=f"write {LEARNED_JSON.relative_to(PROJECT_ROOT)} and the charts")
    p.add_argument("--learned-out", type=Path, default=LEARNED_JSON, help="where --how-it-learned writes its JSON")
    p.add_argument("--charts-out", type=Path, default=CHARTS_DIR, help="where --how-it-learned writes its PNG charts")
    p.add_argument("--data", type=Path, help="score on this corrections .npz (scripts/export_feedback.py) instead of MNIST's test set")
    p.add_argument("--open-set", action="store_true", help="add the open-set report (rejector.json beside the weights)")
    p.add_argument("--negatives", type=int, default=3000, help="held-out non-digit drawings for --open-set")
    p.add_argument("--drawn-digits", type=int, default=2000, help="held-out drawn digits for --open-set")
    p.add_argument("--seed", type=int, default=0, help="seed of the held-out drawings")
    p.add_argument("--figures", type=Path, help="with --open-set: write oscr.png and reliability.png here")
    args = p.parse_args(argv)

    if args.how_it_learned:
        test = load_mnist(args.data_dir).test
        report = how_it_learned(test.images, test.labels)
        write_atomically(args.learned_out, json.dumps(report, separators=(",", ":")).encode())
        charts = write_charts(report, args.charts_out)
        print(f"wrote {args.learned_out} ({len(report['mistakes'])} mistakes) and {', '.join(str(c) for c in charts)}")
        return 0

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
    if args.open_set:
        negatives = make_negatives(args.negatives, "report", args.seed, digits=test.images)
        drawn, drawn_labels, drawn_sources = make_drawn_digits_by_source(args.drawn_digits, "report", args.seed)
        open_set = load_open_set(args.weights, digit_model_id=card.get("model_id"), hidden_width=hidden_width(model))
        report["open_set"] = open_set_report(model, open_set, test.images, test.labels, negatives, drawn, drawn_labels, drawn_sources)
        if args.figures:
            draw_figures(report["open_set"], args.figures)

    if args.json:
        print(json.dumps(report))
        return 0
    print(f"model {report['model_id']}: test accuracy {report['accuracy']:.4f} on {report['n']} images")
    for name, value in report.get("robustness", {}).items():
        print(f"  {name:24s} {value:.4f}")
    if "open_set" in report:
        print_open_set(report["open_set"])
    return 0


def print_open_set(r: dict) -> None:
    t, n, d = r["mnist_test"], r["negatives"], r["drawn_digits"]
    print(f"open set (T = {r['temperature']:.3f}, P(digit) >= {r['threshold']:.4f}, confidence >= {r['min_confidence']:.4f}):")
    print(f"  MNIST test: accuracy {t['accuracy']:.4f}, accepted {t['accepted']:.4f}, accuracy on accepted {t['accuracy_on_accepted']:.4f}")
    print(f"  ECE (15 bins): {t['ece']:.4f} calibrated, {t['ece_uncalibrated']:.4f} before")
    print(f"  held-out non-digits rejected: {n['rejected']:.4f} of {n['n']}; OSCR AUC {r['oscr_auc']:.4f}")
    for table in ("rejected_by_kind", "rejected_by_font", "rejected_by_shape"):
        for name, v in n[table].items():
            print(f"    {name:40s} {v['share']:.4f}  (n = {v['n']})")
    print(f"  held-out drawn digits accepted and read right: {d['accepted_and_right']:.4f} of {d['n']}")
    for name, v in d.get("accepted_and_right_by_source", {}).items():
        print(f"    {name:40s} {v['share']:.4f}  (n = {v['n']})")


def draw_figures(r: dict, folder: Path) -> None:
    """oscr.png (CCR against FPR) and reliability.png (accuracy per confidence bin), written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5, 4), dpi=100)
    ax.plot(r["oscr"]["fpr"], r["oscr"]["ccr"], color="#1f4e9b")
    chosen_fpr = 1 - r["negatives"]["rejected"]
    ax.plot([chosen_fpr], [r["mnist_test"]["accepted_and_right"]], "o", color="#b45309", label="chosen threshold")
    ax.set_xscale("log")
    ax.set_xlim(1e-3, 1)
    ax.set_ylim(0.9, 1.0)
    ax.set_xlabel("false-accept rate (held-out non-digits accepted)")
    ax.set_ylabel("correct-classification rate (MNIST test)")
    ax.set_title("OSCR: digits read right vs non-digits let through")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right")
    _save(fig, folder / "oscr.png")
    fig, ax = plt.subplots(figsize=(5, 4), dpi=100)
    for key, label, colour in (("reliability_uncalibrated", "before (T = 1)", "#9aa3b5"), ("reliability", "calibrated", "#1f4e9b")):
        bins = r[key]
        filled = [i for i, c in enumerate(bins["count"]) if c > 0]
        ax.plot(
            [bins["confidence"][i] for i in filled],
            [bins["accuracy"][i] for i in filled],
            "o-",
            label=f"{label}, ECE {bins['ece']:.4f}",
            color=colour,
        )
    ax.plot([0, 1], [0, 1], "--", color="#555", linewidth=1)
    ax.set_xlabel("confidence (15 bins)")
    ax.set_ylabel("accuracy in the bin")
    ax.set_title("Reliability on the MNIST test set")
    ax.legend(loc="upper left")
    _save(fig, folder / "reliability.png")
    plt.close("all")


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; the page's server must read it
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_charts(report: dict[str, Any], folder: Path) -> list[Path]:
    """Learning curves (loss, accuracy; training and validation) per preset with a history, and the confusion matrix."""
    import matplotlib  # the dev extra: the README's charts only, never the service

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with_history = [p for p in report["presets"] if p["history"]]
    fig, axes = plt.subplots(len(with_history) or 1, 2, figsize=(10, 3.2 * max(1, len(with_history))), squeeze=False)
    for row, preset in zip(axes, with_history):
        # the network with the longest record: in a mixed ensemble, the one trained from scratch, not a fine-tune
        rows_of = collections.Counter(h["member"] for h in preset["history"])
        member = max(sorted(rows_of), key=rows_of.get)
        epochs = [h["epoch"] for h in preset["history"] if h["member"] == member]
        for ax, quantity in zip(row, ("loss", "accuracy")):
            for split, style in (("train", "-"), ("validation", "--")):
                values = [h[f"{split}_{quantity}"] for h in preset["history"] if h["member"] == member]
                ax.plot(epochs, values, style, label=split)
            tuned = preset.get("parent") is not None  # a fine-tune's card holds the fine-tune's epochs only
            name = preset["preset"] + (" (its fine-tune)" if tuned else "")
            if preset.get("members_from"):
                name += f" (network {member + 1} of {preset['members']})"
            ax.set_title(f"{name}: {quantity} ({preset['cost']} cost)" if quantity == "loss" else f"{name}: {quantity}")
            ax.set_xlabel("epoch of the fine-tune" if tuned else "epoch")
            ax.grid(alpha=0.3)
            ax.legend()
    missing = [p["preset"] for p in report["presets"] if not p["history"]]
    if missing:
        fig.suptitle(f"no per-epoch record in the card of: {', '.join(missing)}", fontsize=9)
    fig.tight_layout()
    written.append(_save(fig, folder / "curves.png"))

    confusion = report["test_confusion"]
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    off_diagonal = [[0 if t == a else count for a, count in enumerate(row)] for t, row in enumerate(confusion)]
    image = ax.imshow(off_diagonal, cmap="Reds")
    for t, row in enumerate(confusion):
        for a, count in enumerate(row):
            ax.text(a, t, str(count), ha="center", va="center", fontsize=7, color="black" if t != a else "#1c3faa")
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("the model's answer")
    ax.set_ylabel("true digit")
    ax.set_title(f"{report['shipped']}: {report['test_images']:,} MNIST test digits (colour: mistakes)")
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    written.append(_save(fig, folder / "confusion.png"))
    return written


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".png")
    os.close(handle)
    try:
        fig.savefig(temporary, dpi=90, metadata={"Software": None})  # no version stamp: reruns give the same file
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
        plt.close(fig)
    return path


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

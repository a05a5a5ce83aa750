#!/usr/bin/env python3
"""Train the MNIST MLP and write its weights and model card (atomically) to --out.

    python scripts/train.py                      # the shipped recipe (--preset best)
    python scripts/train.py --preset fast --out /tmp/fast
    python scripts/train.py --preset classic     # sigmoid, quadratic cost, plain SGD
    python scripts/train.py --init-from model_weights --corrections feedback.npz --epochs 3 --lr 0.005 --out /tmp/tuned
                                                 # fine-tune the shipped model with the collected corrections mixed in

    python scripts/train.py --init-from model_weights --drawn-digits 6000 --drawn-repeat 5 --epochs 4 --lr 0.003 --out /tmp/drawn
                                                 # fine-tune with digits drawn as pen strokes or in fonts mixed in
    python scripts/train.py --init-from model_weights --drawn-digits 6000 --number-pieces 15000 --epochs 4 --lr 0.001 --out /tmp/pieces
                                                 # ...and with training digits as the number reader cuts them out of numbers

Every field of the recipe can be overridden by a flag; --help lists them. A fine-tune (--init-from) keeps
under `parent` in its card the model it started from: its id, command, epochs and accuracy.

Drawn digits (--drawn-digits N) are made anew from the TRAIN split's strokes and fonts
(negatives.make_drawn_digits) and join the training data --drawn-repeat times; the card reports the
old and the new model's accuracy on the VALIDATION split's drawn digits (other fonts and seeds), beside
MNIST's validation accuracy, which still picks the epoch.

Number pieces (--number-pieces N) are training digits written inside numbers and cut out again the way
the number reader cuts them (backend/recognition/number_pieces.py: at the number's size and slant,
maybe with a sliver of a touching neighbour); they join the training data once, and the card reports
the old and the new model's accuracy on pieces cut from the VALIDATION split's digits.

Corrections (an .npz from scripts/export_feedback.py) only ever join the training data, each repeated
--corrections-repeat times; MNIST's validation split still picks the epoch and the test set only
reports. A share of them (--corrections-held-out, chosen by row id so a row stays on its side in
later exports) is never trained on: the card reports the old and the new model's accuracy on it,
which is the only evidence about corrections that may decide whether to ship the new model.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import platform
import sys
import time
from pathlib import Path

import numpy as np

from backend.nn.activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from backend.nn.augment import NO_AUGMENTATION
from backend.nn.costs import COSTS
from backend.nn.mnist import VALIDATION_SIZE, Split, load_mnist
from backend.nn.optimizers import OPTIMIZERS, SCHEDULES
from backend.nn.presets import DEFAULT_PRESET, PRESETS
from backend.nn.trainer import KEEP, EpochReport, TrainConfig, train
from backend.nn.weights import load_model, save_model
from backend.paths import MODEL_DIR
from backend.recognition.corrections import CorrectionsError, digest_of, load_corrections, split_held_out
from backend.recognition.evaluation import score_test_set
from backend.recognition.negatives import make_drawn_digits
from backend.recognition.number_pieces import number_pieces

VALIDATION_PIECES_SEED = 1

DEFAULT_OUT = MODEL_DIR
INPUT_CONVENTION = {
    "shape": [784],
    "layout": "28x28 row-major, flattened row by row",
    "values": "pixel / 255 in [0, 1]; 0 = background, 1 = ink (white digit on black)",
    "framing": "digit scaled to fit 20x20 (aspect kept), centred by centre of mass in 28x28 (MNIST)",
}

HISTORY_MEASURED = (
    "per epoch and member: train_loss/train_accuracy are means over the epoch's mini-batches as trained "
    "(augmentation and dropout on, when the recipe uses them); validation_loss/validation_accuracy are "
    "measured after the epoch in evaluation mode on the validation split; the cost is the recipe's"
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=sorted(PRESETS), default=DEFAULT_PRESET)
    p.add_argument("--data-dir", help="MNIST folder (default: $MNIST_DIR, else .data/mnist, downloading if needed)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for model.npz and model.json")
    p.add_argument("--seed", type=int)
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--layers", help="hidden sizes, comma-separated, e.g. 800,800")
    p.add_argument("--activation", choices=HIDDEN_ACTIVATIONS)
    p.add_argument("--output-activation", choices=OUTPUT_ACTIVATIONS)
    p.add_argument("--cost", choices=sorted(COSTS))
    p.add_argument("--optimizer", choices=OPTIMIZERS)
    p.add_argument("--lr", type=float, help="peak learning rate eta")
    p.add_argument("--momentum", type=float)
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--max-norm", type=float)
    p.add_argument("--schedule", choices=SCHEDULES)
    p.add_argument("--warmup", type=float, help="fraction of training spent warming up")
    p.add_argument("--dropout", type=float)
    p.add_argument("--input-dropout", type=float)
    p.add_argument("--no-augment", action="store_true", help="train on the images as they are")
    p.add_argument("--elastic-alpha", type=float)
    p.add_argument("--rotation", type=float, help="max rotation in degrees")
    p.add_argument("--patience", type=int, help="stop after this many epochs without validation gain")
    p.add_argument("--keep", choices=KEEP, help="each network's weights of its best validation epoch (default) or of its last")
    p.add_argument("--ensemble", type=int, help="number of networks averaged")
    p.add_argument("--validation-size", type=int, default=VALIDATION_SIZE)
    p.add_argument("--train-limit", type=int, help="use only the first N training images (quick runs)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, one line per epoch")
    p.add_argument("--init-from", type=Path, help="fine-tune: start from this saved model (its architecture and ensemble size)")
    p.add_argument("--corrections", type=Path, help="an .npz of collected corrections (scripts/export_feedback.py) to train on too")
    p.add_argument("--corrections-repeat", type=int, default=5, help="how many times each correction joins the training data")
    p.add_argument("--corrections-held-out", type=float, default=0.2, help="share of the corrections never trained on, only scored")
    p.add_argument(
        "--drawn-digits", type=int, default=0, help="also train on this many drawn digits of the train split's strokes and fonts"
    )
    p.add_argument("--drawn-repeat", type=int, default=5, help="how many times each drawn digit joins the training data")
    p.add_argument("--drawn-validation", type=int, default=2000, help="drawn digits of the validation split to score, before and after")
    p.add_argument("--number-pieces", type=int, default=0, help="also train on this many training digits cut out of numbers")
    p.add_argument("--pieces-validation", type=int, default=5000, help="validation digits cut out of numbers to score, before and after")
    return p.parse_args(argv)


def build_config(args: argparse.Namespace) -> TrainConfig:
    """The preset with every flag the user gave laid over it."""
    cfg = PRESETS[args.preset]
    net = cfg.network
    if args.layers:
        net = dataclasses.replace(net, layer_sizes=(784, *(int(n) for n in args.layers.split(",")), 10))
    net = _override(net, activation=args.activation, output_activation=args.output_activation)
    opt = _override(
        cfg.optimizer,
        name=args.optimizer,
        learning_rate=args.lr,
        momentum=args.momentum,
        weight_decay=args.weight_decay,
        max_norm=args.max_norm,
    )
    sched = _override(cfg.schedule, name=args.schedule, warmup=args.warmup)
    aug = NO_AUGMENTATION if args.no_augment else _override(cfg.augment, elastic_alpha=args.elastic_alpha, rotation_deg=args.rotation)
    return _override(
        cfg,
        network=net,
        optimizer=opt,
        schedule=sched,
        augment=aug,
        cost=args.cost,
        seed=args.seed,
        epochs=args.epochs,
        batch_size=args.batch_size,
        dropout=args.dropout,
        input_dropout=args.input_dropout,
        patience=args.patience,
        keep=args.keep,
        ensemble=args.ensemble,
    )


def _override(obj, **changes):
    return dataclasses.replace(obj, **{k: v for k, v in changes.items() if v is not None})


class Progress:
    """A one-line progress bar per epoch on stderr, then a summary line per epoch on stdout."""

    def __init__(self, config: TrainConfig, quiet: bool):
        self.config = config
        self.quiet = quiet
        self.started = time.perf_counter()

    def batch(self, index: int, total: int, loss: float) -> None:
        if self.quiet or (index % 20 and index != total - 1):
            return
        width = 30
        filled = int(width * (index + 1) / total)
        sys.stderr.write(f"\r  [{'#' * filled}{'.' * (width - filled)}] {index + 1}/{total} loss {loss:.4f}")
        sys.stderr.flush()

    def epoch(self, report: EpochReport) -> None:
        if not self.quiet:
            sys.stderr.write("\r" + " " * 70 + "\r")
        member = f"net {report.member + 1}/{self.config.ensemble} " if self.config.ensemble > 1 else ""
        print(
            f"{member}epoch {report.epoch:3d}/{self.config.epochs}  loss {report.train_loss:.4f}  "
            f"val acc {report.validation_accuracy:.4f}{' *' if report.is_best else '  '}  "
            f"lr {report.learning_rate:.4g}  {report.seconds:.1f}s  (total {time.perf_counter() - self.started:.0f}s)",
            flush=True,
        )


def mixed_in(split: Split, images: np.ndarray, labels: np.ndarray, repeat: int) -> Split:
    """split with images (N, 784) and labels (N,) appended `repeat` times (extra examples join training only)."""
    return Split(
        np.concatenate([split.images, np.tile(images.astype(split.images.dtype), (repeat, 1))]),
        np.concatenate([split.labels, np.tile(labels.astype(split.labels.dtype), repeat)]),
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = build_config(args)
    try:  # a bad file is refused before minutes of loading and training
        corrections = load_corrections(args.corrections) if args.corrections else None
    except CorrectionsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    initial, parent = None, None
    if args.init_from:
        initial, initial_card = load_model(args.init_from)
        parent = lineage(initial_card)
        config = dataclasses.replace(config, network=initial.members[0].config, ensemble=len(initial.members))
    print(
        f"preset {args.preset}: {config.network.layer_sizes} {config.network.activation}, {config.cost}, "
        f"{config.optimizer.name} eta={config.optimizer.learning_rate}, {config.epochs} epochs x {config.ensemble} net(s)",
        flush=True,
    )
    data = load_mnist(args.data_dir, validation_size=args.validation_size, progress=_download_progress)
    train_split = data.train
    if args.train_limit:
        train_split = type(train_split)(train_split.images[: args.train_limit], train_split.labels[: args.train_limit])
    corrections_report = None
    if corrections is not None:
        to_train, held_out = split_held_out(corrections, args.corrections_held_out)
        repeat = max(1, args.corrections_repeat)
        train_split = mixed_in(train_split, to_train.inputs(), to_train.labels, repeat)
        corrections_report = {
            "file": str(args.corrections),
            "sha256": digest_of(args.corrections),
            "trained_on": len(to_train),
            "repeat": repeat,
            "held_out": len(held_out),
            "held_out_ids": held_out.ids.tolist(),
        }
        print(f"corrections: {len(to_train)} trained on (x{repeat}), {len(held_out)} held out", flush=True)
    drawn_report = None
    if args.drawn_digits:
        drawn, drawn_labels = make_drawn_digits(args.drawn_digits, "train", config.seed)
        repeat = max(1, args.drawn_repeat)
        train_split = mixed_in(train_split, drawn, drawn_labels, repeat)
        drawn_report = {"trained_on": len(drawn_labels), "repeat": repeat, "split": "train"}
        print(f"drawn digits: {len(drawn_labels)} trained on (x{repeat})", flush=True)
    pieces_report = None
    if args.number_pieces:
        pieces, piece_labels = number_pieces(data.train.images, data.train.labels, args.number_pieces, np.random.default_rng(config.seed))
        train_split = mixed_in(train_split, pieces, piece_labels, 1)
        pieces_report = {"trained_on": len(piece_labels), "split": "train"}
        print(f"number pieces: {len(piece_labels)} trained on", flush=True)
    progress = Progress(config, args.quiet)
    result = train(config, train_split, data.validation, on_epoch=progress.epoch, on_batch=progress.batch, initial=initial)
    if corrections_report is not None and len(held_out):
        corrections_report["held_out_accuracy"] = score_test_set(result.model, held_out.inputs(), held_out.labels.astype(np.int64))[
            "accuracy"
        ]
        if initial is not None:
            before = score_test_set(initial, held_out.inputs(), held_out.labels.astype(np.int64))["accuracy"]
            corrections_report["held_out_accuracy_before"] = before
        print(f"held-out corrections: accuracy {corrections_report['held_out_accuracy']:.4f}", flush=True)

    if drawn_report is not None:
        scored, scored_labels = make_drawn_digits(args.drawn_validation, "validation", config.seed)
        drawn_report["validation_drawn"] = len(scored_labels)
        drawn_report["validation_drawn_accuracy"] = score_test_set(result.model, scored, scored_labels)["accuracy"]
        if initial is not None:
            drawn_report["validation_drawn_accuracy_before"] = score_test_set(initial, scored, scored_labels)["accuracy"]
        print(f"drawn digits of the validation split: accuracy {drawn_report['validation_drawn_accuracy']:.4f}", flush=True)

    if pieces_report is not None:
        # one fixed draw, so every run is scored on the same pieces
        scored, scored_labels = number_pieces(
            data.validation.images, data.validation.labels, args.pieces_validation, np.random.default_rng(VALIDATION_PIECES_SEED)
        )
        pieces_report["validation_pieces"] = len(scored_labels)
        pieces_report["validation_pieces_accuracy"] = score_test_set(result.model, scored, scored_labels)["accuracy"]
        if initial is not None:
            pieces_report["validation_pieces_accuracy_before"] = score_test_set(initial, scored, scored_labels)["accuracy"]
        print(f"number pieces of the validation split: accuracy {pieces_report['validation_pieces_accuracy']:.4f}", flush=True)

    # the test set is touched once, after selection, only to report
    test = score_test_set(result.model, data.test.images, data.test.labels)
    card = {
        "name": f"mnist-mlp-{args.preset}",
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "preset": args.preset,
        "command": "python scripts/train.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "input": INPUT_CONVENTION,
        "training": config.to_dict(),
        "seed": config.seed,
        "data": {"files_sha256": data.hashes, "train_images": len(train_split), "validation_images": len(data.validation)},
        "fine_tuned_from": None if initial is None else str(args.init_from),
        "parent": parent,
        "corrections": corrections_report,
        "drawn_digits": drawn_report,
        "number_pieces": pieces_report,
        "best_epochs": result.best_epochs,  # the epoch whose weights each network kept: its best, or its last with --keep last
        "history": history_rows(result.history),
        "history_measured": HISTORY_MEASURED,
        "validation_accuracy": result.validation_accuracy,
        "test_accuracy": test["accuracy"],
        "test_confusion": test["confusion"],
        "training_wall_time_s": round(result.seconds, 2),
        "versions": {"python": platform.python_version(), "numpy": np.__version__},
    }
    card_path = save_model(result.model, args.out, card)
    print(
        f"validation accuracy {result.validation_accuracy:.4f}  test accuracy {test['accuracy']:.4f}  "
        f"training {result.seconds:.0f}s  -> {card_path.parent}"
    )
    return 0


def lineage(card: dict) -> dict:
    """What a fine-tune started from, so its card still says how the weights were first trained."""
    keys = ("name", "model_id", "command", "trained_as", "parent", "validation_accuracy", "test_accuracy", "training_wall_time_s")
    return {key: card[key] for key in keys if key in card} | {"epochs": (card.get("training") or {}).get("epochs")}


def history_rows(history: list[EpochReport]) -> list[dict]:
    """The learning curve for the card: one row per (member, epoch), numbers rounded for reading."""
    rows = []
    for report in history:
        row = dataclasses.asdict(report)
        for key in ("train_loss", "train_accuracy", "validation_loss", "validation_accuracy"):
            row[key] = round(row[key], 6)
        row["learning_rate"] = float(f"{row['learning_rate']:.6g}")
        row["seconds"] = round(row["seconds"], 2)
        rows.append(row)
    return rows


def _download_progress(name: str, done: int, total: int) -> None:
    share = f"{100 * done / total:5.1f}%" if total else f"{done >> 10} KiB"
    sys.stderr.write(f"\r  downloading {name}: {share}")
    if total and done >= total:
        sys.stderr.write("\n")


if __name__ == "__main__":
    sys.exit(main())

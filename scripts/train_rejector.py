#!/usr/bin/env python3
"""Train the "not a digit" rejector and calibrate the digit model; save rejector.npz + rejector.json.

    nice -n 10 .venv/bin/python scripts/train_rejector.py                 # into model_weights/, beside the ensemble
    .venv/bin/python scripts/train_rejector.py --epochs 2 --negatives 2000 --out /tmp/rej --weights /tmp/fast
    .venv/bin/python scripts/train_rejector.py --refit /tmp/rej --accept-target 0.993   # thresholds only, no training

--refit FOLDER keeps the rejector network trained into FOLDER (and its card's training recipe) and only
chooses T, the threshold, the confidence floor and the second-look band again with this command's
threshold options (--no-second-look: one look at every picture, as before 2026-11-30's sixth session).

Needs the font packages named in backend/recognition/negatives.py. The recipe, seed, fonts and the
validation figures go into the card; the MNIST test set is never read here.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import sys
import time
from pathlib import Path

import numpy as np

from backend.nn.augment import AugmentConfig
from backend.nn.mnist import load_mnist
from backend.nn.weights import load_model
from backend.paths import MODEL_DIR
from backend.recognition import negatives as neg
from backend.recognition.doodles import FAMILIES
from backend.recognition.number_pieces import number_pieces
from backend.recognition.openset import INPUTS, load_open_set, save_open_set
from backend.recognition.openset_training import RejectorRecipe, fit_open_set, judge, train_rejector
from backend.recognition.sketches import DIGIT_LIKE


def main(argv: list[str] | None = None) -> int:
    defaults = RejectorRecipe()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", help="MNIST folder (default: $MNIST_DIR, else .data/mnist)")
    p.add_argument("--weights", type=Path, default=MODEL_DIR, help="the digit model's folder (model.npz + model.json)")
    p.add_argument("--out", type=Path, default=None, help="where to write rejector.npz/.json (default: --weights)")
    counts = (
        "epochs",
        "per_class",
        "negatives",
        "drawn_digits",
        "validation_negatives",
        "validation_drawn_digits",
        "validation_number_pieces",
        "seed",
    )
    for name in counts:
        p.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(defaults, name))
    p.add_argument(
        "--inputs", choices=INPUTS, default=defaults.inputs, help="what the rejector reads: pixels, the model's hidden layers, or both"
    )
    p.add_argument("--hidden", type=int, nargs="+", default=list(defaults.hidden))
    p.add_argument("--dropout", type=float, default=defaults.dropout)
    p.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    for name in ("keep_mnist", "keep_drawn", "keep_pieces", "accuracy_target", "accept_target"):
        p.add_argument(f"--{name.replace('_', '-')}", type=float, default=getattr(defaults, name))
    p.add_argument(
        "--second-look",
        action=argparse.BooleanOptionalAction,
        default=defaults.second_look,
        help="judge borderline pictures by P(digit) averaged over their one-pixel shifts (thresholds chosen so)",
    )
    p.add_argument("--refit", type=Path, help="a folder with a trained rejector: choose its thresholds again, no training")
    p.add_argument(
        "--fresh-share", type=float, default=defaults.fresh_share, help="share of each epoch's positives cut out of numbers anew"
    )
    args = p.parse_args(argv)
    thresholds = {
        k: getattr(args, k) for k in ("keep_mnist", "keep_drawn", "keep_pieces", "accuracy_target", "accept_target", "second_look")
    }
    trained = load_open_set(args.refit) if args.refit else None
    if trained is not None:  # the network and its training recipe as trained; only the threshold options from here
        kept = {k: v for k, v in trained.card["recipe"].items() if k in {f.name for f in dataclasses.fields(RejectorRecipe)}}
        recipe = dataclasses.replace(
            defaults, **{**kept, "hidden": tuple(kept["hidden"]), "augment": AugmentConfig(**kept["augment"]), **thresholds}
        )
    else:
        recipe = dataclasses.replace(
            defaults,
            **thresholds,
            inputs=args.inputs,
            hidden=tuple(args.hidden),
            dropout=args.dropout,
            learning_rate=args.learning_rate,
            fresh_share=args.fresh_share,
            **{k: getattr(args, k) for k in counts},
        )
    out = args.out or args.weights
    started = time.perf_counter()

    model, card = load_model(args.weights)
    mnist = load_mnist(args.data_dir)
    if trained is None:
        say(f"drawing {recipe.negatives} negatives and {recipe.drawn_digits} drawn digits (train split)")
        train_neg = neg.make_negatives(recipe.negatives, "train", recipe.seed, digits=mnist.train.images)
        train_drawn, _ = neg.make_drawn_digits(recipe.drawn_digits, "train", recipe.seed)
    val_neg = neg.make_negatives(recipe.validation_negatives, "validation", recipe.seed, digits=mnist.validation.images)
    val_drawn, val_drawn_labels = neg.make_drawn_digits(recipe.validation_drawn_digits, "validation", recipe.seed)
    pieces_rng = np.random.default_rng([neg.SPLIT_SEED["validation"], recipe.seed, 11])
    val_pieces, val_pieces_labels = number_pieces(
        mnist.validation.images, mnist.validation.labels, recipe.validation_number_pieces, pieces_rng
    )
    say(f"  {time.perf_counter() - started:.0f} s")

    if trained is not None:
        rejector = trained.rejector
    else:
        rejector = train_rejector(
            recipe,
            np.concatenate([mnist.train.images, train_drawn]),
            train_neg.images,
            lambda e, loss, s: say(f"epoch {e}: loss {loss:.4f} ({s:.0f} s)"),
            model,
            fresh_positives=lambda n, rng: number_pieces(mnist.train.images, mnist.train.labels, n, rng)[0],
        )
    open_set = fit_open_set(
        recipe, rejector, model, mnist.validation.images, mnist.validation.labels, val_drawn, mnist.train.images, val_pieces, val_neg.images
    )

    digits = judge(model, open_set, mnist.validation.images)
    drawn = judge(model, open_set, val_drawn)
    others = judge(model, open_set, val_neg.images)
    pieces = judge(model, open_set, val_pieces)
    kinds, details = val_neg.kind_of(1), val_neg.kind_of(2)
    validation = {
        "mnist_accepted": float(digits.accepted.mean()),
        "mnist_accuracy_on_accepted": float((digits.predicted == mnist.validation.labels)[digits.accepted].mean()),
        "drawn_digits_accepted_and_right": float((drawn.accepted & (drawn.predicted == val_drawn_labels)).mean()),
        "number_pieces_accepted": float(pieces.accepted.mean()),
        "number_pieces_accepted_and_right": float((pieces.accepted & (pieces.predicted == val_pieces_labels)).mean()),
        "negatives_rejected": float((~others.accepted).mean()),
        "negatives_rejected_by_kind": {str(k): float((~others.accepted[kinds == k]).mean()) for k in sorted(set(kinds))},
        "negatives_rejected_by_doodle": {
            str(k): float((~others.accepted[details == k]).mean()) for k in sorted(set(details)) if k.startswith("doodles/")
        },
    }
    say(f"validation: {validation}")
    save_open_set(
        open_set,
        out,
        {
            "name": "mnist-open-set",
            "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "command": "python scripts/train_rejector.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            **({"trained_by": trained.card.get("trained_by", trained.card["command"])} if trained is not None else {}),
            "digit_model_id": card.get("model_id"),
            "recipe": recipe.to_dict(),
            "negatives": {
                "train_fonts": [f.name for f in neg.fonts_for("train")],
                "held_out_fonts": list(neg.HELD_OUT_FONTS),
                "train_shapes": list(neg.TRAIN_SHAPES),
                "doodle_families": sorted(FAMILIES),
                "held_out_shapes": list(neg.HELD_OUT_SHAPES),
                "digit_like_letters_left_out": "".join(sorted(DIGIT_LIKE)),
                "split_seeds": neg.SPLIT_SEED,
            },
            "validation": validation,
            "seconds": round(time.perf_counter() - started, 1),
        },
    )
    say(f"saved {out} in {time.perf_counter() - started:.0f} s")
    return 0


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())

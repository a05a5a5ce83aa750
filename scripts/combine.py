#!/usr/bin/env python3
"""Average separately trained networks into one ensemble model, with a card that says how.

Members of `--preset best` can be trained one per process (or per machine) with --ensemble 1 and
seeds s, s+1, ...; this script joins them into exactly the model `train.py --preset best --seed s`
would have written, scores the ensemble on validation (and, for the report only, on test), and saves
it atomically.

    python scripts/combine.py .runs/long-s10 .runs/long-s11 .runs/long-s12 --out model_weights
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from backend.nn.metrics import accuracy, predict_labels
from backend.nn.mnist import load_mnist
from backend.nn.model import Model
from backend.nn.presets import PRESETS
from backend.nn.trainer import TrainConfig
from backend.nn.weights import load_model, save_model
from backend.recognition.evaluation import score_test_set


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("members", nargs="+", type=Path, help="folders written by scripts/train.py")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--data-dir")
    args = p.parse_args(argv)

    loaded = [load_model(folder) for folder in args.members]
    cards = [card for _, card in loaded]
    configs = [TrainConfig.from_dict(card["training"]) for card in cards]
    base = dataclasses.replace(configs[0], ensemble=1, seed=0)
    if any(dataclasses.replace(c, ensemble=1, seed=0) != base for c in configs):
        sys.exit("members were trained with different recipes; only seeds may differ")
    extras = [mixed_in_flags(card) for card in cards]
    if any(e != extras[0] for e in extras):
        sys.exit("members were trained with different recipes (drawn digits or number pieces mixed in); only seeds may differ")
    seeds = [c.seed for c in configs]
    if seeds != list(range(seeds[0], seeds[0] + len(seeds))):
        sys.exit(f"member seeds {seeds} are not consecutive: train.py --seed {seeds[0]} could not reproduce them")
    model = Model([net for m, _ in loaded for net in m.members])
    config = dataclasses.replace(configs[0], ensemble=len(model.members), seed=seeds[0])

    data = load_mnist(args.data_dir)
    val_acc = accuracy(data.validation.labels, predict_labels(model.predict_proba, data.validation.images))
    test = score_test_set(model, data.test.images, data.test.labels)
    card = {
        **{k: cards[0][k] for k in ("input", "data", "versions") if k in cards[0]},
        "name": f"mnist-mlp-{cards[0].get('preset', 'custom')}",
        "created": max(c.get("created", "") for c in cards),
        "preset": cards[0].get("preset"),
        "command": reproducing_command(cards[0].get("preset"), config, extras[0]),
        "trained_as": [c.get("command") for c in cards],
        "training": config.to_dict(),
        "seed": seeds[0],
        "best_epochs": [e for c in cards for e in c.get("best_epochs", [])],
        "member_validation_accuracy": [c["validation_accuracy"] for c in cards],
        "member_test_accuracy": [c["test_accuracy"] for c in cards],
        "validation_accuracy": val_acc,
        "test_accuracy": test["accuracy"],
        "test_confusion": test["confusion"],
        "training_wall_time_s": round(sum(c["training_wall_time_s"] for c in cards), 1),
        "drawn_digits": [c.get("drawn_digits") for c in cards] if any(c.get("drawn_digits") for c in cards) else None,
        "number_pieces": [c.get("number_pieces") for c in cards] if any(c.get("number_pieces") for c in cards) else None,
    }
    save_model(model, args.out, card)
    print(f"{len(model.members)} members: validation {val_acc:.4f}, test {card['test_accuracy']:.4f} -> {args.out}")
    return 0


def mixed_in_flags(card: dict) -> str:
    """The train.py flags that mixed drawn digits or number pieces into a member's training ("" if none).
    Each member makes its own from its own seed, so the one-process command differs in those images only."""
    flags = ""
    drawn = card.get("drawn_digits") or {}
    if drawn.get("trained_on"):
        flags += f" --drawn-digits {drawn['trained_on']} --drawn-repeat {drawn['repeat']}"
    pieces = card.get("number_pieces") or {}
    if pieces.get("trained_on"):
        flags += f" --number-pieces {pieces['trained_on']}"
    return flags


def reproducing_command(preset: str | None, config: TrainConfig, mixed_in: str = "") -> str:
    """The train.py line that trains this ensemble in one go (flags only where the preset differs; `mixed_in`:
    mixed_in_flags)."""
    command = f"python scripts/train.py --preset {preset} --seed {config.seed}"
    reference = PRESETS.get(preset)
    if reference is None or reference.ensemble != config.ensemble:
        command += f" --ensemble {config.ensemble}"
    if reference is None or reference.epochs != config.epochs:
        command += f" --epochs {config.epochs}"
    command += mixed_in
    if reference is not None and dataclasses.replace(reference, ensemble=1, epochs=1, seed=0) != dataclasses.replace(
        config, ensemble=1, epochs=1, seed=0
    ):
        command += "  # and the flags that changed the preset: see 'training'"
    return command


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Average separately trained networks into one ensemble model, with a card that says how.

Members of `--preset best` can be trained one per process (or per machine) with --ensemble 1 and
seeds s, s+1, ...; this script joins them into exactly the model `train.py --preset best --seed s`
would have written, scores the ensemble on validation (and, for the report only, on test), and saves
it atomically.

    python scripts/combine.py .runs/long-s10 .runs/long-s11 .runs/long-s12 --out model_weights

With --mix the members may come from different trainings (other epochs, learning rates, data mixed in,
fine-tunes), and FOLDER:K takes only network K (from 0) of a saved ensemble, FOLDER:0,2 two of them.
No single train.py line reproduces such an ensemble, so its card's command is this script's line and
`members_from` records each network's origin: the folder and card it came from, that card's command
(and `parent` for a fine-tune), its seed, epochs and learning rate, and its own validation and test
accuracy. `training` is then the first member's recipe.

    python scripts/combine.py --mix .runs/tuned-last:0,1 .runs/joint-s22 --out model_weights   # the shipped model
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import re
import sys
from pathlib import Path

from backend.nn.metrics import accuracy, predict_labels
from backend.nn.mnist import load_mnist
from backend.nn.model import Model
from backend.nn.presets import PRESETS
from backend.nn.trainer import TrainConfig
from backend.nn.weights import load_model, save_model
from backend.recognition.evaluation import score_test_set

# FOLDER:K or FOLDER:K,K... (a folder's own name may hold a colon: only a trailing list of numbers counts)
PICKED = re.compile(r"^(?P<folder>.+):(?P<picks>\d+(?:,\d+)*)$")


@dataclasses.dataclass(frozen=True)
class Source:
    """Networks taken from one saved model: `picks` are their indices in it."""

    folder: Path
    model: Model
    card: dict
    picks: tuple[int, ...]
    picked: bool  # named as FOLDER:K (rather than the whole folder)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("members", nargs="+", help="folders written by scripts/train.py; with --mix, FOLDER:K picks network K of one")
    p.add_argument("--mix", action="store_true", help="members may come from different trainings: record each one's origin")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--data-dir")
    args = p.parse_args(argv)

    sources = [load_source(spec) for spec in args.members]
    if any(s.picked for s in sources) and not args.mix:
        sys.exit("FOLDER:K picks networks out of an ensemble: that is a mixed ensemble, pass --mix")
    picked = [(s.card.get("model_id"), k) for s in sources for k in s.picks]
    if len(set(picked)) != len(picked):
        sys.exit("a network is named twice (the same model id and network): an ensemble averages different networks")
    model = Model([s.model.members[k] for s in sources for k in s.picks])
    data = load_mnist(args.data_dir)
    if args.mix:
        card = mixed_card(sources, model, data, "python scripts/combine.py " + " ".join(argv if argv is not None else sys.argv[1:]))
    else:
        card = same_recipe_card([s.card for s in sources], model, data)
    save_model(model, args.out, card)
    print(f"{len(model.members)} members: validation {card['validation_accuracy']:.4f}, test {card['test_accuracy']:.4f} -> {args.out}")
    return 0


def load_source(spec: str) -> Source:
    """FOLDER (every network in it) or FOLDER:K[,K...] (those networks, numbered from 0)."""
    match = PICKED.match(spec)
    folder = Path(match["folder"] if match else spec)
    model, card = load_model(folder)
    if not match:
        return Source(folder, model, card, tuple(range(len(model.members))), picked=False)
    picks = tuple(int(k) for k in match["picks"].split(","))
    if any(k >= len(model.members) for k in picks) or len(set(picks)) != len(picks):
        sys.exit(f"{spec}: {folder} holds networks 0 to {len(model.members) - 1}; pick each at most once")
    return Source(folder, model, card, picks, picked=True)


def same_recipe_card(cards: list[dict], model: Model, data) -> dict:
    """The card train.py --ensemble N would have written: members of one recipe and consecutive seeds."""
    configs = [TrainConfig.from_dict(card["training"]) for card in cards]
    base = dataclasses.replace(configs[0], ensemble=1, seed=0)
    if any(dataclasses.replace(c, ensemble=1, seed=0) != base for c in configs):
        sys.exit("members were trained with different recipes; only seeds may differ (--mix joins them anyway)")
    extras = [mixed_in_flags(card) for card in cards]
    if any(e != extras[0] for e in extras):
        sys.exit(
            "members were trained with different recipes (drawn digits or number pieces mixed in); only seeds may differ (--mix joins them anyway)"
        )
    seeds = [c.seed for c in configs]
    if seeds != list(range(seeds[0], seeds[0] + len(seeds))):
        sys.exit(f"member seeds {seeds} are not consecutive: train.py --seed {seeds[0]} could not reproduce them (--mix joins them anyway)")
    config = dataclasses.replace(configs[0], ensemble=len(model.members), seed=seeds[0])
    return {
        **scores(model, data),
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
        "training_wall_time_s": round(sum(c["training_wall_time_s"] for c in cards), 1),
        "drawn_digits": [c.get("drawn_digits") for c in cards] if any(c.get("drawn_digits") for c in cards) else None,
        "number_pieces": [c.get("number_pieces") for c in cards] if any(c.get("number_pieces") for c in cards) else None,
    }


def mixed_card(sources: list[Source], model: Model, data, command: str) -> dict:
    """The card of an ensemble of networks from different trainings: each member's origin, not one recipe."""
    first = sources[0].card
    origins = [member_origin(s, k, data) for s in sources for k in s.picks]
    config = dataclasses.replace(TrainConfig.from_dict(first["training"]), ensemble=len(model.members), seed=origins[0]["seed"])
    return {
        **scores(model, data),
        **{k: first[k] for k in ("input", "data", "versions") if k in first},
        "name": f"mnist-mlp-{first.get('preset', 'custom')}",
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "preset": first.get("preset"),
        "command": command,
        "training": config.to_dict(),
        "training_is": "the first member's recipe; each member's own is under members_from",
        "seed": config.seed,
        "members_from": origins,
        "best_epochs": [o["best_epoch"] for o in origins],
        "history": renumbered_history(sources),
        "history_measured": first.get("history_measured"),
        "member_validation_accuracy": [o["validation_accuracy"] for o in origins],
        "member_test_accuracy": [o["test_accuracy"] for o in origins],
        "training_wall_time_s": round(sum(o["training_wall_time_s"] for o in origins), 1),
        "drawn_digits": [o["drawn_digits"] for o in origins] if any(o["drawn_digits"] for o in origins) else None,
        "number_pieces": [o["number_pieces"] for o in origins] if any(o["number_pieces"] for o in origins) else None,
    }


def renumbered_history(sources: list[Source]) -> list[dict] | None:
    """The picked networks' per-epoch rows from their own cards, numbered as members of the new ensemble."""
    picked = [(s.card.get("history") or [], k) for s in sources for k in s.picks]
    rows = [{**row, "member": i} for i, (history, k) in enumerate(picked) for row in history if row.get("member") == k]
    return rows or None


def member_origin(source: Source, k: int, data) -> dict:
    """Where network k of `source` came from, and how it alone scores (validation; test for the report)."""
    card = source.card
    training = card.get("training") or {}
    alone = scores(Model([source.model.members[k]]), data)
    best_epochs = card.get("best_epochs") or []
    return {
        "from": str(source.folder),
        "model_id": card.get("model_id"),
        "member": k,
        "command": card.get("command"),
        "seed": training.get("seed", card.get("seed", 0)) + k,  # train.py gives network k the seed s + k
        "epochs": training.get("epochs"),
        "learning_rate": (training.get("optimizer") or {}).get("learning_rate"),
        "best_epoch": best_epochs[k] if k < len(best_epochs) else None,
        "parent": card.get("parent"),
        "drawn_digits": card.get("drawn_digits"),
        "number_pieces": card.get("number_pieces"),
        "training_wall_time_s": round(card.get("training_wall_time_s", 0.0) / len(source.model.members), 1),
        "validation_accuracy": alone["validation_accuracy"],
        "test_accuracy": alone["test_accuracy"],
    }


def scores(model: Model, data) -> dict:
    """The ensemble's validation accuracy and, touched once only to report, its test accuracy and confusion."""
    test = score_test_set(model, data.test.images, data.test.labels)
    return {
        "validation_accuracy": accuracy(data.validation.labels, predict_labels(model.predict_proba, data.validation.images)),
        "test_accuracy": test["accuracy"],
        "test_confusion": test["confusion"],
    }


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

#!/usr/bin/env python3
"""Read whole handwritten numbers through POST /predict/number and score them.

    python scripts/evaluate_numbers.py                      # 1,000 numbers from the validation split
    python scripts/evaluate_numbers.py --split test --json  # the final figure, on the test set
    python scripts/evaluate_numbers.py --source strokes     # numbers drawn with the page's stroke digits
    python scripts/evaluate_numbers.py --source drawn       # ... with every pen style, jittered, one pen each
    python scripts/evaluate_numbers.py --source pad         # strokes on the pad, read the page's way
    python scripts/evaluate_numbers.py --source pad-picture # the same kind of numbers drawn as pictures
    python scripts/evaluate_numbers.py --guesses --misses 20  # also scored with "?" as its best guess; miss kinds
    python scripts/evaluate_numbers.py --marks              # numbers with one non-digit mark among the digits

Each number has 2 to 8 digits, composed by backend/testing/numbers.py: from MNIST digits of the chosen
split (the 5,000-image validation split by default; the test split only for the final figure), at a
random size per number, each digit a little bigger or smaller, slanted, on a drifting baseline, with
gaps from touching to wide; or (--source strokes) from the stroke digits of backend/testing/strokes.py
drawn with a round pen; or (--source drawn) from every pen style of backend/recognition/sketches.py (a 1
with a flag or a foot, a 7 with a bar...), each digit jittered by an unsteady hand, one pen per number.
Each is sent as a PNG (dark on light, or light on dark for every other one) to /predict/number of the
app in this process (the ASGI app, no socket). --source pad writes each number as strokes on the page's
pad instead (backend/testing/numbers.pad_number: both kinds of stroke digits, slanted, touching to wide)
and reads it the page's way: the page's own grouping.js (run by Node) groups the strokes into digits and
fits each group, which is framed as the page frames it (backend/testing/page_reading.py), and all of a
number's digits go to /predict/batch, "?" where one is not a digit; --source pad-picture draws such numbers
as pictures (numbers.pad_picture) for /predict/number. Reports exact whole-number accuracy,
per-digit accuracy, and the numbers with touching digits and the touching pairs apart. --guesses scores
the same readings once more with each "?" replaced by the network's best digit (reported apart, under
"guessing": what the segmentation gets right whatever the rejector says); --misses N counts the misses by
kind (backend/testing/numbers.miss_kind), with and without touching digits, lists the first N, and counts
the digits read wrong where the reading has the right length ("wrong_digits", e.g. {"1->7": 12}).
--marks puts one non-digit drawing of the same split (negatives.make_negatives: letters, shapes, doodles,
scribbles; not its digit pairs) in place of one digit of each number, and reports under "marks" the
share of those numbers whose reading shows a "?" (a doodle in a row of digits must not pass as a digit).
--looser P,C scores the readings once more (under "looser", and "looser_shown_as_unknown" with --marks)
as if a digit of a number of two or more were accepted when the rejector's P(digit) >= P and its
calibrated confidence >= C (the served rule's thresholds otherwise): P(digit) is recomputed here from the
784 pixels the response returns, with the served weights (--weights, default model_weights/). The service keeps its rule.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

from backend.nn.mnist import load_mnist
from backend.nn.weights import WeightsError
from backend.paths import MODEL_DIR
from backend.recognition.negatives import make_negatives
from backend.recognition.openset import OpenSet
from backend.service.routes.number import NOT_A_DIGIT
from backend.service.served_model import ServedModel, load_served_model
from backend.testing.numbers import (
    MARK,
    MISS_KINDS,
    NumberScore,
    compose_number,
    drawn_number,
    miss_kind,
    pad_number,
    pad_picture,
    png,
    stroke_number,
)
from backend.testing.page_reading import NodeMissingError, framed, group_on_page
from backend.testing.service import serve_asgi, settings_for


def make_numbers(source: str, split: str, count: int, seed: int, data_dir: str | None):
    rng = np.random.default_rng(seed)
    data = getattr(load_mnist(data_dir), split) if source == "mnist" else None
    drawn_by = {
        "strokes": stroke_number,
        "drawn": drawn_number,
        "pad": pad_number,
        "pad-picture": lambda label, rng: pad_picture(pad_number(label, rng), rng),
    }
    for _ in range(count):
        length = int(rng.integers(2, 9))
        if data is None:
            yield drawn_by[source]("".join(str(d) for d in rng.integers(0, 10, length)), rng)
        else:
            picked = rng.choice(len(data), length, replace=False)
            yield compose_number(data.images[picked], data.labels[picked], rng)


def make_marked_numbers(split: str, count: int, seed: int, data_dir: str | None):
    """Numbers of 2 to 8 places, one of them a non-digit drawing of the split (its label "?"), the rest its digits."""
    rng = np.random.default_rng(seed)
    data = getattr(load_mnist(data_dir), split)
    drawn = make_negatives(2 * count, split, seed, digits=data.images)
    marks = drawn.images[drawn.kind_of() != "digit_pairs"]  # two digits side by side are rightly read as two digits
    for _ in range(count):
        length = int(rng.integers(2, 9))
        picked = rng.choice(len(data), length - 1, replace=False)
        at = int(rng.integers(length))
        images = np.insert(data.images[picked], at, marks[rng.integers(len(marks))], axis=0)
        yield compose_number(images, np.insert(data.labels[picked].astype(np.int64), at, MARK), rng)


def looser_rule(served: ServedModel, p_digit: float, confidence: float) -> OpenSet:
    """The served rejector with the thresholds of --looser in place of its own."""
    assert served.open_set is not None, "the served model has no rejector"
    return dataclasses.replace(served.open_set, threshold=p_digit, min_confidence=confidence)


def looser_reading(digits: list[dict], served: ServedModel, looser: OpenSet) -> str:
    """The number as read when a digit of a number of two or more is also accepted by the `looser` rule."""
    if len(digits) < 2:
        return "".join(str(d["digit"]) if d["is_digit"] else NOT_A_DIGIT for d in digits)
    pixels = np.array([d["pixels"] for d in digits], dtype=np.float32)  # (n, 784), exactly what the network was given
    calibrated = np.array([d["probabilities"] for d in digits], dtype=np.float32)  # (n, 10), as answered
    hidden = served.model.predict_proba_and_hidden(pixels)[1] if looser.needs_hidden else None
    accepted = looser.is_digit(pixels, calibrated, hidden, served.model)
    return "".join(str(d["digit"]) if d["is_digit"] or ok else NOT_A_DIGIT for d, ok in zip(digits, accepted))


async def evaluate(args: argparse.Namespace, served: ServedModel) -> dict:
    """The report for args, reading with the app serving args.weights; `served` is that model, for --looser."""
    score, guessing = NumberScore(), NumberScore()
    kinds = {kind: {"touching": 0, "apart": 0} for kind in MISS_KINDS}
    wrong_digits: Counter[str] = Counter()
    misses = []
    marks_shown = looser_shown = 0
    looser = NumberScore()
    looser_open_set = looser_rule(served, *args.looser) if args.looser else None
    numbers = (
        make_marked_numbers(args.split, args.count, args.seed, args.data_dir)
        if args.marks
        else make_numbers(args.source, args.split, args.count, args.seed, args.data_dir)
    )
    on_page = None
    if args.source == "pad":  # grouping.js runs once for all of them (one Node start)
        numbers = list(numbers)
        on_page = group_on_page([number.strokes for number in numbers])
    with tempfile.TemporaryDirectory() as tmp:
        async with serve_asgi(settings_for(Path(tmp), model_dir=args.weights)) as client:
            for k, number in enumerate(numbers):
                if on_page is not None:
                    body = await read_on_page(client, on_page[k].fitted)
                else:
                    response = await client.post(
                        "/predict/number", content=png(number.ink, dark_on_light=k % 2 == 0), headers={"content-type": "image/png"}
                    )
                    body = response.json() if response.status_code == 200 else {"number": "", "digits": []}
                read, guess = body["number"], "".join(str(d["digit"]) for d in body["digits"])
                score.add(number, read)
                marks_shown += NOT_A_DIGIT in read
                if looser_open_set is not None:
                    loose = looser_reading(body["digits"], served, looser_open_set)
                    looser.add(number, loose)
                    looser_shown += NOT_A_DIGIT in loose
                guessing.add(number, guess)
                kind = miss_kind(number.label, read, guess)
                if kind is not None:
                    kinds[kind]["touching" if any(number.touching) else "apart"] += 1
                    wrong_digits.update(misread_digits(number.label, guess))
                    misses.append(
                        {"index": k, "label": number.label, "read": read, "guess": guess, "kind": kind, "touching": number.touching}
                    )
    report = {"source": args.source, "split": args.split if args.source == "mnist" else None, "seed": args.seed, **score.report()}
    if args.marks:
        report["marks"] = {"numbers": args.count, "shown_as_unknown": round(marks_shown / args.count, 4)}
        if args.looser:
            report["marks"]["looser_shown_as_unknown"] = round(looser_shown / args.count, 4)
    if args.looser:
        report["looser"] = {"p_digit": args.looser[0], "confidence": args.looser[1], **looser.report()}
    if args.guesses:
        report["guessing"] = guessing.report()
    if args.misses is not None:
        report["miss_kinds"] = kinds
        report["wrong_digits"] = dict(wrong_digits.most_common())
        report["misses"] = misses[: args.misses]
    return report


async def read_on_page(client, fitted: list[dict]) -> dict:
    """One number's fitted groups framed and sent in one /predict/batch, as the page does: {"number", "digits"},
    each digit its answer and the 784 pixels sent, as /predict/number answers."""
    images = [framed(group).tolist() for group in fitted]
    response = await client.post("/predict/batch", json={"images": images})
    assert response.status_code == 200, response.text  # framed groups of a number always hold ink
    digits = [{**answer, "pixels": pixels} for answer, pixels in zip(response.json()["predictions"], images)]
    return {"number": "".join(str(d["digit"]) if d["is_digit"] else NOT_A_DIGIT for d in digits), "digits": digits}


def misread_digits(label: str, guess: str) -> list[str]:
    """ "written->read" for each digit the best guesses got wrong, when they have as many digits as the label
    (otherwise the segmentation missed, and which digit stands for which is unclear)."""
    if len(guess) != len(label):
        return []
    return [f"{wrote}->{read}" for wrote, read in zip(label, guess) if wrote != read and wrote != NOT_A_DIGIT]


def thresholds(text: str) -> tuple[float, float]:
    """ "0.05,0.5" -> (0.05, 0.5): a P(digit) and a confidence threshold, each in [0, 1]."""
    try:
        p_digit, confidence = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected two numbers P,C such as 0.05,0.5, got {text!r}") from None
    if not (0 <= p_digit <= 1 and 0 <= confidence <= 1):
        raise argparse.ArgumentTypeError(f"P and C must be in [0, 1], got {text!r}")
    return p_digit, confidence


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", choices=["mnist", "strokes", "drawn", "pad", "pad-picture"], default="mnist")
    p.add_argument("--split", choices=["validation", "test"], default="validation", help="MNIST digits to compose from")
    p.add_argument("--count", type=int, default=1000, help="how many numbers")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", help="MNIST folder (default: $MNIST_DIR, else .data/mnist)")
    p.add_argument("--weights", type=Path, default=MODEL_DIR, help="the model repository to serve (default: model_weights/)")
    p.add_argument("--guesses", action="store_true", help='also score each "?" as the best-guess digit (reported apart)')
    p.add_argument("--misses", type=int, metavar="N", help="count the misses by kind and list the first N")
    p.add_argument("--marks", action="store_true", help="one non-digit drawing among the digits of each number (MNIST source only)")
    p.add_argument("--looser", type=thresholds, metavar="P,C", help="also score with a looser rule for digits of numbers (reported apart)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    if args.marks and args.source != "mnist":
        p.error(f"--marks composes numbers from MNIST digits: leave out --source {args.source}")
    os.environ.setdefault("LOG_LEVEL", "warning")
    try:  # refused here with the file and the problem, not as 1,000 failed requests
        served = load_served_model(args.weights)
    except WeightsError as err:
        p.error(f"--weights: {err}")
    try:
        report = asyncio.run(evaluate(args, served))
    except NodeMissingError as err:
        p.error(f"--source pad: {err}")
    if args.json:
        json.dump(report, sys.stdout)
        sys.stdout.write("\n")
    else:
        for key, value in report.items():
            if key == "misses":
                for miss in value:  # one line each: what was written, read and guessed, and which pairs touch
                    touching = "".join("t" if t else "." for t in miss["touching"])
                    sys.stdout.write(
                        f"  miss {miss['index']:4} {miss['kind']:12} {miss['label']:>8} read {miss['read']:>9} guess {miss['guess']:>9} pairs {touching}\n"
                    )
            else:
                sys.stdout.write(f"{key:34} {value}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

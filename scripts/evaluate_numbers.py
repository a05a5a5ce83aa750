#!/usr/bin/env python3
"""Read whole handwritten numbers through POST /predict/number and score them.

    python scripts/evaluate_numbers.py                      # 1,000 numbers from the validation split
    python scripts/evaluate_numbers.py --split test --json  # the final figure, on the test set
    python scripts/evaluate_numbers.py --source strokes     # numbers drawn with the page's stroke digits

Each number has 2 to 8 digits, composed by backend/testing/numbers.py: from MNIST digits of the chosen
split (the 5,000-image validation split by default; the test split only for the final figure), at a
random size per number, each digit a little bigger or smaller, slanted, on a drifting baseline, with
gaps from touching to wide; or (--source strokes) from the stroke digits of backend/testing/strokes.py
drawn with a round pen. Each is sent as a PNG (dark on light, or light on dark for every other one) to
/predict/number of the app in this process (the ASGI app, no socket). Reports exact whole-number accuracy,
per-digit accuracy, and the numbers with touching digits and the touching pairs apart.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from backend.nn.mnist import load_mnist
from backend.testing.numbers import NumberScore, compose_number, png, stroke_number
from backend.testing.service import serve_asgi, settings_for


def make_numbers(source: str, split: str, count: int, seed: int, data_dir: str | None):
    rng = np.random.default_rng(seed)
    data = getattr(load_mnist(data_dir), split) if source == "mnist" else None
    for _ in range(count):
        length = int(rng.integers(2, 9))
        if data is None:
            yield stroke_number("".join(str(d) for d in rng.integers(0, 10, length)), rng)
        else:
            picked = rng.choice(len(data), length, replace=False)
            yield compose_number(data.images[picked], data.labels[picked], rng)


async def evaluate(args: argparse.Namespace) -> dict:
    score = NumberScore()
    with tempfile.TemporaryDirectory() as tmp:
        async with serve_asgi(settings_for(Path(tmp))) as client:
            for k, number in enumerate(make_numbers(args.source, args.split, args.count, args.seed, args.data_dir)):
                response = await client.post(
                    "/predict/number", content=png(number.ink, dark_on_light=k % 2 == 0), headers={"content-type": "image/png"}
                )
                read = response.json()["number"] if response.status_code == 200 else ""
                score.add(number, read)
    return {"source": args.source, "split": args.split if args.source == "mnist" else None, "seed": args.seed, **score.report()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", choices=["mnist", "strokes"], default="mnist")
    p.add_argument("--split", choices=["validation", "test"], default="validation", help="MNIST digits to compose from")
    p.add_argument("--count", type=int, default=1000, help="how many numbers")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", help="MNIST folder (default: $MNIST_DIR, else .data/mnist)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    os.environ.setdefault("LOG_LEVEL", "warning")
    report = asyncio.run(evaluate(args))
    if args.json:
        json.dump(report, sys.stdout)
        sys.stdout.write("\n")
    else:
        for key, value in report.items():
            sys.stdout.write(f"{key:34} {value}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

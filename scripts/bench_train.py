#!/usr/bin/env python3
"""Training throughput: our NumPy trainer against the same network and loop in PyTorch, side by side.

For each net (784-800-800-10 and 784-256-128-10; ReLU, softmax cross-entropy, momentum SGD, float32,
batch 128) it times whole epochs over the 60,000 MNIST training images, alternating NumPy and PyTorch
so that drift on a shared machine hits both alike, and reports the median epoch time of each, the
ratio NumPy / PyTorch, the achieved GFLOP/s against the machine's peak, and both nets' test accuracy
after the same number of epochs.

    pip install -e '.[bench]'                 # torch 2.13.0 (CPU) and threadpoolctl, benchmark only
    python scripts/bench_train.py --json
    python scripts/bench_train.py --threads 1 --repeats 3

PyTorch is imported here only; nothing in the product depends on it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nets", default="784-800-800-10,784-256-128-10")
    p.add_argument("--repeats", type=int, default=2, help="epochs timed per framework and net (median reported)")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="BLAS / torch threads for both")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--data-dir", help="MNIST folder (default: $MNIST_DIR, else .data/mnist)")
    p.add_argument("--json", action="store_true", help="print one JSON object keyed by net")
    return p.parse_args()


ARGS = parse_args()
# thread counts must be fixed before NumPy's BLAS and torch start their pools
os.environ["OPENBLAS_NUM_THREADS"] = str(ARGS.threads)
os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)

import numpy as np

from backend.nn.metrics import accuracy
from backend.nn.mnist import load_mnist
from backend.nn.network import Network, NetworkConfig
from backend.nn.optimizers import Optimizer, OptimizerConfig, ScheduleConfig
from backend.nn.trainer import TrainConfig, one_hot, train_step

try:
    import torch
except ImportError:
    sys.exit("bench_train needs PyTorch for the comparison: pip install -e '.[bench]' (torch==2.13.0, CPU)")


def flops_per_epoch(sizes: tuple[int, ...], n: int) -> float:
    """Multiply-adds of forward (1x) and backward (2x: delta and weight gradients) passes, x2 FLOPs each."""
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return 6.0 * weights * n


def peak_gflops(threads: int) -> float:
    """Theoretical float32 peak: cores x clock x FLOPs per cycle (2 FMA pipes x vector width x 2)."""
    flags, mhz = "", 0.0
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags") and not flags:
                flags = line
            elif line.startswith("cpu MHz") and not mhz:
                mhz = float(line.split(":")[1])
    lanes = 16 if " avx512f" in flags else 8 if " avx2" in flags else 4
    return threads * mhz / 1000 * 2 * lanes * 2


class NumpyRun:
    def __init__(self, sizes, seed, lr):
        self.config = TrainConfig(
            network=NetworkConfig(sizes),
            optimizer=OptimizerConfig(name="momentum", learning_rate=lr, momentum=0.9, nesterov=False),
            schedule=ScheduleConfig(name="constant"),
        )
        self.rng = np.random.default_rng(seed)
        self.net = Network.initialise(self.config.network, self.rng)
        self.optimizer = Optimizer(self.config.optimizer, self.net.parameters)

    def epoch(self, x, y, batch, order):
        for i in range(0, len(order), batch):
            idx = order[i : i + batch]
            train_step(self.net, self.optimizer, self.config, x[idx], one_hot(y[idx]), self.config.optimizer.learning_rate, self.rng)

    def predict(self, x):
        return self.net.predict_proba(x).argmax(1)


class TorchRun:
    def __init__(self, sizes, seed, lr):
        torch.manual_seed(seed)
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
        self.net = torch.nn.Sequential(*layers[:-1])
        self.optimizer = torch.optim.SGD(self.net.parameters(), lr=lr, momentum=0.9)
        self.loss = torch.nn.CrossEntropyLoss()

    def epoch(self, x, y, batch, order):
        order = torch.from_numpy(order)
        for i in range(0, len(order), batch):
            idx = order[i : i + batch]
            self.optimizer.zero_grad(set_to_none=True)
            self.loss(self.net(x[idx]), y[idx]).backward()
            self.optimizer.step()

    def predict(self, x):
        with torch.no_grad():
            return self.net(x).argmax(1).numpy()


def blas_kernel() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (pip install threadpoolctl)"
    info = [f"{i.get('internal_api')} {i.get('architecture', '')} x{i.get('num_threads')}" for i in threadpool_info()]
    return ", ".join(info)


def main() -> int:
    data = load_mnist(ARGS.data_dir)
    x = np.concatenate([data.train.images, data.validation.images])  # all 60,000 training images
    y = np.concatenate([data.train.labels, data.validation.labels])
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    torch.set_num_threads(ARGS.threads)
    peak = peak_gflops(ARGS.threads)
    results = {}
    for name in ARGS.nets.split(","):
        sizes = tuple(int(n) for n in name.split("-"))
        runs = {"numpy": NumpyRun(sizes, 0, ARGS.lr), "torch": TorchRun(sizes, 0, ARGS.lr)}
        inputs = {"numpy": (x, y), "torch": (xt, yt)}
        warm = np.arange(20 * ARGS.batch_size)
        for key, run in runs.items():  # warm-up: allocators, BLAS pools, torch's kernels
            run.epoch(*inputs[key], ARGS.batch_size, warm)
        times = {"numpy": [], "torch": []}
        shuffle = np.random.default_rng(1)
        for _ in range(ARGS.repeats):
            order = shuffle.permutation(len(y))
            for key, run in runs.items():
                started = time.perf_counter()
                run.epoch(*inputs[key], ARGS.batch_size, order)
                times[key].append(time.perf_counter() - started)
        numpy_s, torch_s = statistics.median(times["numpy"]), statistics.median(times["torch"])
        flops = flops_per_epoch(sizes, len(y))
        results[name] = {
            "numpy_epoch_s": round(numpy_s, 3),
            "torch_epoch_s": round(torch_s, 3),
            "ratio": round(numpy_s / torch_s, 3),
            "numpy_gflops": round(flops / numpy_s / 1e9, 1),
            "torch_gflops": round(flops / torch_s / 1e9, 1),
            "peak_gflops": round(peak, 1),
            "epochs": ARGS.repeats,
            "numpy_test_accuracy": accuracy(data.test.labels, runs["numpy"].predict(data.test.images)),
            "torch_test_accuracy": accuracy(data.test.labels, runs["torch"].predict(torch.from_numpy(data.test.images))),
        }
    meta = {
        "threads": ARGS.threads,
        "batch_size": ARGS.batch_size,
        "numpy": np.__version__,
        "torch": torch.__version__,
        "blas": blas_kernel(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", ""),
    }
    if ARGS.json:
        print(json.dumps({**results, "meta": meta}))
        return 0
    print(f"threads {ARGS.threads}, batch {ARGS.batch_size}, numpy {np.__version__} ({meta['blas']}), torch {torch.__version__}")
    for name, r in results.items():
        print(
            f"{name:16s} numpy {r['numpy_epoch_s']:6.2f}s  torch {r['torch_epoch_s']:6.2f}s  ratio {r['ratio']:.2f}  "
            f"GFLOP/s {r['numpy_gflops']:.0f} vs {r['torch_gflops']:.0f} (peak {r['peak_gflops']:.0f})  "
            f"test acc after {r['epochs']} epochs: numpy {r['numpy_test_accuracy']:.4f}, torch {r['torch_test_accuracy']:.4f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

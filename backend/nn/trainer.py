"""Mini-batch gradient descent on MNIST: the training loop, model selection on validation, and reports.

One epoch: (optionally) distort the training images afresh, shuffle, then for each mini-batch run the
forward pass, take delta(L) from the cost, backpropagate, and step the optimiser. After each epoch the
network is scored on the validation split; the best epoch's parameters are kept (model selection never
looks at the test set; `keep="last"` keeps the last epoch's instead, for a fine-tune whose aim the
MNIST validation split does not measure) and training stops early when validation accuracy has not
improved for `patience` epochs. Progress goes to callbacks, never to stdout: the scripts decide how to show it.

Each epoch's report is also its line of the learning curve the model card keeps: the training loss and
accuracy are means over that epoch's mini-batches as they were trained (augmented, dropout on: they
cost nothing extra, and explain why training accuracy can sit below validation accuracy), the
validation loss and accuracy are measured after the epoch with the network in evaluation mode.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .augment import NO_AUGMENTATION, AugmentConfig, augment
from .costs import get_cost
from .metrics import accuracy, predict_in_batches, predict_labels
from .mnist import Split
from .model import Model
from .network import Network, NetworkConfig
from .optimizers import Optimizer, OptimizerConfig, ScheduleConfig, scheduled_rate
from .shapes import N_CLASSES

KEEP = ("best", "last")


@dataclass(frozen=True)
class TrainConfig:
    network: NetworkConfig = field(default_factory=NetworkConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    augment: AugmentConfig = NO_AUGMENTATION
    cost: str = "cross_entropy"
    epochs: int = 20
    batch_size: int = 128
    dropout: float = 0.0
    input_dropout: float = 0.0
    patience: int = 0  # epochs without validation improvement before stopping; 0 = never stop early
    keep: str = "best"  # the weights each network ends with: of its best validation epoch, or of its last ("last")
    ensemble: int = 1  # networks trained from seeds seed, seed+1, ... and averaged
    seed: int = 0

    def __post_init__(self) -> None:
        get_cost(self.cost)  # refuses an unknown cost by name
        if self.epochs < 1 or self.batch_size < 1 or self.ensemble < 1:
            raise ValueError("epochs, batch_size and ensemble must be at least 1")
        if not (0 <= self.dropout < 1 and 0 <= self.input_dropout < 1):
            raise ValueError("dropout rates must be in [0, 1)")
        if self.keep not in KEEP:
            raise ValueError(f"keep must be one of {KEEP}, got {self.keep!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        parts = {
            "network": NetworkConfig,
            "optimizer": OptimizerConfig,
            "schedule": ScheduleConfig,
            "augment": AugmentConfig,
        }
        values = {k: (parts[k](**v) if k in parts else v) for k, v in data.items()}
        return cls(**values)


@dataclass(frozen=True)
class EpochReport:
    member: int
    epoch: int  # 1-based
    train_loss: float  # mean over the epoch's mini-batches, as trained
    train_accuracy: float  # mean over the epoch's mini-batches, as trained
    validation_loss: float
    validation_accuracy: float
    learning_rate: float
    seconds: float
    is_best: bool


@dataclass
class TrainResult:
    model: Model
    best_epochs: list[int]
    validation_accuracy: float  # of the whole model (the ensemble average, if several members)
    history: list[EpochReport]
    seconds: float


EpochCallback = Callable[[EpochReport], None]
BatchCallback = Callable[[int, int, float], None]  # (batch index, batches per epoch, running loss)


def one_hot(labels: np.ndarray, dtype=np.float32) -> np.ndarray:
    """(B,) ints -> (B, 10) rows with a single 1."""
    return np.eye(N_CLASSES, dtype=dtype)[labels]


def train_step(
    net: Network, optimizer: Optimizer, config: TrainConfig, x: np.ndarray, y: np.ndarray, learning_rate: float, rng: np.random.Generator
) -> float:
    """One mini-batch of gradient descent; returns the batch's cost before the step."""
    return scored_train_step(net, optimizer, config, x, y, learning_rate, rng)[0]


def scored_train_step(
    net: Network, optimizer: Optimizer, config: TrainConfig, x: np.ndarray, y: np.ndarray, learning_rate: float, rng: np.random.Generator
) -> tuple[float, float]:
    """One mini-batch of gradient descent; returns the batch's (cost, accuracy) before the step.

    x: (B, 784), y: (B, 10) one-hot.
    """
    cache = net.forward_train(x, rng, config.dropout, config.input_dropout)
    cost = get_cost(config.cost)
    delta = cost.delta(net.output_activation, cache.output, y)
    grads = net.backward(cache, delta)
    optimizer.step(grads, learning_rate)
    hits = float(np.mean(cache.output.argmax(axis=1) == y.argmax(axis=1)))
    return cost.value(cache.output, y), hits


def validation_scores(net: Network, cost: str, validation: Split) -> tuple[float, float]:
    """(cost, accuracy) of `net` in evaluation mode on the validation split."""
    proba = predict_in_batches(net.predict_proba, validation.images)  # (N, 10)
    return get_cost(cost).value(proba, one_hot(validation.labels)), accuracy(validation.labels, proba.argmax(axis=1))


def train_network(
    config: TrainConfig,
    train: Split,
    validation: Split,
    seed: int,
    member: int = 0,
    on_epoch: EpochCallback | None = None,
    on_batch: BatchCallback | None = None,
    initial: Network | None = None,
) -> tuple[Network, int, list[EpochReport]]:
    """Train one network, from `initial`'s weights (fine-tuning; left as they are) or fresh ones; return it at
    its best validation epoch (or its last, with config.keep "last"), that epoch, and the history."""
    rng = np.random.default_rng(seed)
    if initial is None:
        net = Network.initialise(config.network, rng)
    else:
        if initial.config != config.network:
            raise ValueError(f"the network to fine-tune is {initial.config}, the recipe says {config.network}")
        net = copy.deepcopy(initial)
    optimizer = Optimizer(config.optimizer, net.parameters)
    n = len(train)
    targets = one_hot(train.labels)  # (N, 10), built once rather than per batch
    batches_per_epoch = -(-n // config.batch_size)
    total_steps = config.epochs * batches_per_epoch
    best_accuracy, best_epoch, best_params = -1.0, 0, None
    history: list[EpochReport] = []
    step = 0
    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        images = augment(train.images, rng, config.augment) if config.augment.enabled else train.images
        order = rng.permutation(n)
        running, running_hits = 0.0, 0.0
        for b in range(batches_per_epoch):
            idx = order[b * config.batch_size : (b + 1) * config.batch_size]
            lr = scheduled_rate(config.optimizer.learning_rate, config.schedule, step / total_steps)
            loss, hits = scored_train_step(net, optimizer, config, images[idx], targets[idx], lr, rng)
            running += (loss - running) / (b + 1)
            running_hits += (hits - running_hits) / (b + 1)
            step += 1
            if on_batch:
                on_batch(b, batches_per_epoch, running)
        val_loss, val_acc = validation_scores(net, config.cost, validation)
        is_best = val_acc > best_accuracy
        if is_best:
            best_accuracy, best_epoch = val_acc, epoch
            if config.keep == "best":  # only needed to return to the best epoch at the end
                best_params = [p.copy() for p in net.parameters]
        report = EpochReport(
            member=member,
            epoch=epoch,
            train_loss=running,
            train_accuracy=running_hits,
            validation_loss=val_loss,
            validation_accuracy=val_acc,
            learning_rate=lr,
            seconds=time.perf_counter() - started,
            is_best=is_best,
        )
        history.append(report)
        if on_epoch:
            on_epoch(report)
        if config.patience and epoch - best_epoch >= config.patience:
            break
    if config.keep == "last":
        return net, history[-1].epoch, history
    for param, best in zip(net.parameters, best_params):
        param[...] = best
    return net, best_epoch, history


def train(
    config: TrainConfig,
    train_split: Split,
    validation: Split,
    on_epoch: EpochCallback | None = None,
    on_batch: BatchCallback | None = None,
    initial: Model | None = None,
) -> TrainResult:
    """Train `config.ensemble` networks (seeds seed, seed+1, ...) and combine them into one Model.

    initial: a saved model to fine-tune, member by member (it must have config.ensemble members).
    """
    started = time.perf_counter()
    if initial is not None and len(initial.members) != config.ensemble:
        raise ValueError(f"the model to fine-tune has {len(initial.members)} networks, the recipe says ensemble={config.ensemble}")
    members, best_epochs, history = [], [], []
    for member in range(config.ensemble):
        start = initial.members[member] if initial is not None else None
        net, best_epoch, member_history = train_network(
            config, train_split, validation, config.seed + member, member, on_epoch, on_batch, initial=start
        )
        members.append(net)
        best_epochs.append(best_epoch)
        history.extend(member_history)
    model = Model(members)
    val_acc = accuracy(validation.labels, predict_labels(model.predict_proba, validation.images))
    return TrainResult(model, best_epochs, val_acc, history, time.perf_counter() - started)

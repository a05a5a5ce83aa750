"""Update rules that step the parameters against the gradient of the cost, and learning-rate schedules.

- sgd:      v <- v - eta * grad                         (the classic update)
- momentum: u <- mu * u - eta * grad;   v <- v + u       (Nesterov's variant with nesterov=True)
- adam:     bias-corrected first and second moments (Kingma & Ba 2015)

Weight decay is L2 on the weights only (never the biases), added to the gradient: grad + lambda * W.
Max-norm caps the L2 norm of each unit's incoming weight vector (a row of W) after each step, as in
the dropout paper. Every update works in place on the parameter arrays, so the network sees it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

OPTIMIZERS = ("sgd", "momentum", "adam")
SCHEDULES = ("constant", "step", "cosine")


@dataclass(frozen=True)
class OptimizerConfig:
    name: str = "momentum"
    learning_rate: float = 0.05
    momentum: float = 0.9
    nesterov: bool = True
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    max_norm: float = 0.0  # 0 disables the constraint

    def __post_init__(self) -> None:
        if self.name not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.name!r}")
        if self.learning_rate <= 0:
            raise ValueError("learning_rate must be positive")


@dataclass(frozen=True)
class ScheduleConfig:
    """eta(t) for t = fraction of training done in [0, 1]; an optional linear warm-up comes first."""

    name: str = "cosine"
    warmup: float = 0.0  # fraction of training spent ramping up from 0
    step_every: float = 0.33  # 'step': decay by step_factor at each multiple of this fraction
    step_factor: float = 0.1
    final_fraction: float = 0.0  # 'cosine': eta at the end, as a fraction of the peak

    def __post_init__(self) -> None:
        if self.name not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.name!r}")


def scheduled_rate(peak: float, schedule: ScheduleConfig, progress: float) -> float:
    """The learning rate at `progress` (0 at the start of training, 1 at the end)."""
    if schedule.warmup > 0 and progress < schedule.warmup:
        return peak * progress / schedule.warmup
    if schedule.name == "constant":
        return peak
    if schedule.name == "step":
        return peak * schedule.step_factor ** math.floor(progress / schedule.step_every)
    after_warmup = (progress - schedule.warmup) / max(1e-12, 1.0 - schedule.warmup)
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(1.0, after_warmup)))
    return peak * (schedule.final_fraction + (1.0 - schedule.final_fraction) * cosine)


class Optimizer:
    """Holds the state (velocities, moments) for one list of parameters [W1, b1, W2, b2, ...]."""

    def __init__(self, config: OptimizerConfig, parameters: list[np.ndarray]):
        self.config = config
        self.parameters = parameters
        self.state = [np.zeros_like(p) for p in parameters] if config.name != "sgd" else []
        self.second = [np.zeros_like(p) for p in parameters] if config.name == "adam" else []
        self.steps = 0

    def step(self, grads: list[np.ndarray], learning_rate: float) -> None:
        """Apply one update in place. Gradients may be modified (they are temporaries)."""
        cfg = self.config
        assert len(grads) == len(self.parameters), "one gradient per parameter"
        self.steps += 1
        for i, (param, grad) in enumerate(zip(self.parameters, grads)):
            is_weight = param.ndim == 2
            if cfg.weight_decay and is_weight:
                grad += cfg.weight_decay * param  # L2: d/dW of (lambda/2)||W||^2
            if cfg.name == "sgd":
                param -= learning_rate * grad
            elif cfg.name == "momentum":
                self._momentum(i, param, grad, learning_rate)
            else:
                self._adam(i, param, grad, learning_rate)
            if cfg.max_norm and is_weight:
                _clip_row_norms(param, cfg.max_norm)

    def _momentum(self, i: int, param: np.ndarray, grad: np.ndarray, lr: float) -> None:
        # every line works in place, reusing grad as scratch: this step touches all parameters once
        # per mini-batch, and temporaries here cost as much as a matrix product of the small nets
        mu = self.config.momentum
        velocity = self.state[i]
        grad *= lr
        velocity *= mu
        velocity -= grad  # u <- mu u - eta grad
        if self.config.nesterov:
            param -= grad
            param += np.multiply(velocity, mu, out=grad)  # v <- v + mu u - eta grad
        else:
            param += velocity

    def _adam(self, i: int, param: np.ndarray, grad: np.ndarray, lr: float) -> None:
        cfg = self.config
        m, v = self.state[i], self.second[i]
        # in place, grad doubling as scratch (as in _momentum)
        m -= grad
        m *= cfg.beta1
        m += grad  # m <- b1 m + (1 - b1) g
        grad *= grad
        v -= grad
        v *= cfg.beta2
        v += grad  # v <- b2 v + (1 - b2) g^2
        corrected_lr = lr * math.sqrt(1 - cfg.beta2**self.steps) / (1 - cfg.beta1**self.steps)
        np.sqrt(v, out=grad)
        grad += cfg.eps
        np.divide(m, grad, out=grad)
        grad *= corrected_lr
        param -= grad


def _clip_row_norms(weights: np.ndarray, max_norm: float) -> None:
    norms = np.sqrt(np.einsum("ij,ij->i", weights, weights))  # one norm per unit (row)
    scale = np.minimum(1.0, max_norm / np.maximum(norms, 1e-12)).astype(weights.dtype)
    weights *= scale[:, None]

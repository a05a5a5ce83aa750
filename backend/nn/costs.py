"""Cost functions C(a, y) over a mini-batch, each with the error delta(L) = dC/dz(L) at the output layer.

- quadratic: C = 1/(2B) * sum ||a - y||^2, the cost of the classic formulation.
- cross_entropy: C = -1/B * sum y . log(a), paired with a softmax output, where dC/dz(L) simplifies
  to (a - y)/B: no saturating derivative slows learning.

a and y have shape (B, 10); y is one-hot. Costs are averaged over the batch so that the learning rate
does not depend on the batch size. Like the activations, the costs are a small registry: `get_cost(name)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .activations import Activation

_LOG_FLOOR = 1e-12


def quadratic(a: np.ndarray, y: np.ndarray) -> float:
    return float(0.5 * np.sum((a - y) ** 2) / a.shape[0])


def quadratic_delta(output: Activation, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    return output.backward(a, (a - y) / a.shape[0])  # dC/da = (a - y)/B, through the output activation


def cross_entropy(a: np.ndarray, y: np.ndarray) -> float:
    return float(-np.sum(y * np.log(np.maximum(a, _LOG_FLOOR))) / a.shape[0])


def cross_entropy_delta(output: Activation, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    if output.name != "softmax":
        raise ValueError("the cross-entropy cost needs a softmax output layer")
    return (a - y) / a.shape[0]


@dataclass(frozen=True)
class Cost:
    name: str
    value: Callable[[np.ndarray, np.ndarray], float]  # C(a, y) over the batch
    delta: Callable[[Activation, np.ndarray, np.ndarray], np.ndarray]  # dC/dz(L) (B, 10) for a = output(z(L))


COSTS: dict[str, Cost] = {
    "cross_entropy": Cost("cross_entropy", cross_entropy, cross_entropy_delta),
    "quadratic": Cost("quadratic", quadratic, quadratic_delta),
}


def get_cost(name: str) -> Cost:
    try:
        return COSTS[name]
    except KeyError:
        raise ValueError(f"unknown cost {name!r}; choose one of {sorted(COSTS)}") from None

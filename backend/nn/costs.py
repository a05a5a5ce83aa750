"""Cost functions C(a, y) over a mini-batch, and the error delta(L) = dC/dz(L) at the output layer.

- quadratic: C = 1/(2B) * sum ||a - y||^2, the cost of the classic formulation.
- cross_entropy: C = -1/B * sum y . log(a), paired with a softmax output, where dC/dz(L) simplifies
  to (a - y)/B: no saturating derivative slows learning.

a and y have shape (B, 10); y is one-hot. Costs are averaged over the batch so that the learning rate
does not depend on the batch size.
"""

from __future__ import annotations

import numpy as np

from .activations import Activation

COSTS = ("cross_entropy", "quadratic")
_LOG_FLOOR = 1e-12


def cost_value(name: str, a: np.ndarray, y: np.ndarray) -> float:
    batch = a.shape[0]
    if name == "quadratic":
        return float(0.5 * np.sum((a - y) ** 2) / batch)
    if name == "cross_entropy":
        return float(-np.sum(y * np.log(np.maximum(a, _LOG_FLOOR))) / batch)
    raise ValueError(f"unknown cost {name!r}; choose one of {COSTS}")


def output_delta(name: str, output: Activation, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dC/dz(L) for output activations a = output(z(L)); shape (B, 10)."""
    batch = a.shape[0]
    if name == "cross_entropy":
        if output.name != "softmax":
            raise ValueError("the cross-entropy cost needs a softmax output layer")
        return (a - y) / batch
    if name == "quadratic":
        return output.backward(a, (a - y) / batch)
    raise ValueError(f"unknown cost {name!r}; choose one of {COSTS}")

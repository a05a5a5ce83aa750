"""Activation functions sigma for a(l) = sigma(z(l)), each with the backward step of backpropagation.

Every activation is written so that its derivative can be computed from its *output* a alone, which
is all the network keeps from the forward pass: sigmoid' = a(1-a), tanh' = 1-a^2, relu' = [a>0].
`backward(a, grad_a)` turns dC/da into dC/dz. Softmax is the one non-elementwise activation: its
backward is the Jacobian-vector product a * (g - sum(g * a)).

All functions take and return arrays of shape (B, n): one row per example.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

LEAKY_SLOPE = 0.01


def sigmoid(z: np.ndarray) -> np.ndarray:
    # exp(-|z|) never overflows; the two branches give 1/(1+e^-z) for either sign of z
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def sigmoid_backward(a: np.ndarray, grad_a: np.ndarray) -> np.ndarray:
    return grad_a * a * (1.0 - a)


def tanh(z: np.ndarray) -> np.ndarray:
    return np.tanh(z)


def tanh_backward(a: np.ndarray, grad_a: np.ndarray) -> np.ndarray:
    return grad_a * (1.0 - a * a)


def relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0, out=z)  # in place: z is a fresh temporary in forward()


def relu_backward(a: np.ndarray, grad_a: np.ndarray) -> np.ndarray:
    # in place (grad_a is a fresh temporary in backward()); multiplying by the mask is ~10x faster
    # than boolean-index assignment, which dominated the backward pass
    return np.multiply(grad_a, a > 0, out=grad_a)


def leaky_relu(z: np.ndarray) -> np.ndarray:
    return np.where(z > 0, z, z * LEAKY_SLOPE).astype(z.dtype, copy=False)


def leaky_relu_backward(a: np.ndarray, grad_a: np.ndarray) -> np.ndarray:
    # a > 0 exactly where z > 0, since the slope is positive
    return np.where(a > 0, grad_a, grad_a * LEAKY_SLOPE).astype(grad_a.dtype, copy=False)


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)  # exp of a shifted z cannot overflow
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def softmax_backward(a: np.ndarray, grad_a: np.ndarray) -> np.ndarray:
    return a * (grad_a - (grad_a * a).sum(axis=1, keepdims=True))


@dataclass(frozen=True)
class Activation:
    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    backward: Callable[[np.ndarray, np.ndarray], np.ndarray]
    # He initialisation suits the ReLU family, Glorot the saturating ones
    init: str


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation("sigmoid", sigmoid, sigmoid_backward, "glorot"),
    "tanh": Activation("tanh", tanh, tanh_backward, "glorot"),
    "relu": Activation("relu", relu, relu_backward, "he"),
    "leaky_relu": Activation("leaky_relu", leaky_relu, leaky_relu_backward, "he"),
    "softmax": Activation("softmax", softmax, softmax_backward, "glorot"),
}

HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")
OUTPUT_ACTIVATIONS = ("softmax", "sigmoid")


def get_activation(name: str) -> Activation:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}") from None

"""A multilayer perceptron written from scratch in NumPy: forward pass and backpropagation.

The network is the classic formulation, one layer at a time:

    z(l) = W(l) a(l-1) + b(l),    a(l) = sigma(z(l)),    a(0) = x,

with W(l) of shape (n_l, n_{l-1}). A mini-batch is stored one example per row, so the same line
reads Z = A @ W.T + b with A of shape (B, n_{l-1}). Backpropagation walks the layers in reverse:

    delta(L)   = dC/dz(L)                                   (from the cost, see costs.py)
    dC/dW(l)   = delta(l)^T a(l-1),    dC/db(l) = sum over the batch of delta(l)
    delta(l-1) = sigma'(z(l-1)) * (delta(l) W(l))

Dropout (inverted: kept units are scaled by 1/keep during training so inference needs no change) is
the only training-time extra here. What this module leaves out: the cost (costs.py), the update rule
(optimizers.py), data and the training loop (trainer.py). It imports nothing beyond NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .activations import (
    HIDDEN_ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
    Activation,
    get_activation,
)


@dataclass(frozen=True)
class NetworkConfig:
    """Architecture: layer_sizes runs from the 784 inputs to the 10 outputs, e.g. (784, 800, 800, 10)."""

    layer_sizes: tuple[int, ...] = (784, 800, 800, 10)
    activation: str = "relu"
    output_activation: str = "softmax"

    def __post_init__(self) -> None:
        object.__setattr__(self, "layer_sizes", tuple(int(n) for n in self.layer_sizes))
        if len(self.layer_sizes) < 2 or min(self.layer_sizes) < 1:
            raise ValueError(f"layer_sizes needs at least two positive sizes, got {self.layer_sizes}")
        if self.activation not in HIDDEN_ACTIVATIONS:
            raise ValueError(f"hidden activation must be one of {HIDDEN_ACTIVATIONS}, got {self.activation!r}")
        if self.output_activation not in OUTPUT_ACTIVATIONS:
            raise ValueError(f"output activation must be one of {OUTPUT_ACTIVATIONS}, got {self.output_activation!r}")

    def activation_for(self, l: int) -> str:
        """sigma's name for the 0-based layer l: the output activation for the last layer, the hidden one elsewhere."""
        return self.output_activation if l == len(self.layer_sizes) - 2 else self.activation

    @property
    def n_parameters(self) -> int:
        sizes = self.layer_sizes
        return sum(n_out * n_in + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


@dataclass
class ForwardCache:
    """What backpropagation needs from a training forward pass.

    activations[l] is a(l) before dropout (its derivative is computed from it); inputs[l] is what
    layer l+1 actually received (a(l) after dropout); masks[l] is the dropout scale or None.
    """

    activations: list[np.ndarray] = field(default_factory=list)
    inputs: list[np.ndarray] = field(default_factory=list)
    masks: list[np.ndarray | None] = field(default_factory=list)

    @property
    def output(self) -> np.ndarray:
        return self.activations[-1]


class Network:
    """Weights W(l) (n_l, n_{l-1}) and biases b(l) (n_l,) for l = 1..L, stored 0-based."""

    def __init__(self, config: NetworkConfig, weights: list[np.ndarray], biases: list[np.ndarray]):
        sizes = config.layer_sizes
        assert len(weights) == len(biases) == len(sizes) - 1, "one W and one b per layer"
        for l, (w, b) in enumerate(zip(weights, biases)):
            assert w.shape == (sizes[l + 1], sizes[l]), f"W{l + 1} has shape {w.shape}"
            assert b.shape == (sizes[l + 1],), f"b{l + 1} has shape {b.shape}"
        self.config = config
        self.weights = weights
        self.biases = biases
        self.layer_activations: list[Activation] = [get_activation(config.activation_for(l)) for l in range(len(weights))]
        self.hidden_activation: Activation = get_activation(config.activation)
        self.output_activation: Activation = self.layer_activations[-1]

    @classmethod
    def initialise(cls, config: NetworkConfig, rng: np.random.Generator, dtype=np.float32) -> Network:
        """He init (variance 2/n_in) for the ReLU family, Glorot (2/(n_in+n_out)) otherwise; zero biases."""
        weights, biases = [], []
        sizes = config.layer_sizes
        for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            scheme = get_activation(config.activation_for(l)).init
            variance = 2.0 / n_in if scheme == "he" else 2.0 / (n_in + n_out)
            weights.append((rng.standard_normal((n_out, n_in)) * np.sqrt(variance)).astype(dtype))
            biases.append(np.zeros(n_out, dtype=dtype))
        return cls(config, weights, biases)

    @property
    def parameters(self) -> list[np.ndarray]:
        """[W1, b1, W2, b2, ...], the order gradients come back in."""
        return [p for pair in zip(self.weights, self.biases) for p in pair]

    @property
    def dtype(self) -> np.dtype:
        return self.weights[0].dtype

    def activation_of(self, l: int) -> Activation:
        """sigma of the 0-based layer l: the output activation for the last layer, the hidden one elsewhere."""
        return self.layer_activations[l]

    def layer(self, l: int, a_prev: np.ndarray) -> np.ndarray:
        """a(l) = sigma(W(l) a(l-1) + b(l)) for the 0-based layer index l."""
        z = a_prev @ self.weights[l].T  # (B,n_in)@(n_in,n_out) -> (B,n_out)
        z += self.biases[l]
        return self.activation_of(l).forward(z)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Output activations for inputs x (B, 784) -> (B, 10); no dropout."""
        a = np.asarray(x, dtype=self.dtype)
        for l in range(len(self.weights)):
            a = self.layer(l, a)
        return a

    def forward_train(
        self,
        x: np.ndarray,
        rng: np.random.Generator | None = None,
        dropout: float = 0.0,
        input_dropout: float = 0.0,
    ) -> ForwardCache:
        """Forward pass that keeps every activation, with inverted dropout on inputs and hidden layers."""
        cache = ForwardCache()
        a = np.asarray(x, dtype=self.dtype)
        n_layers = len(self.weights)
        for l in range(n_layers + 1):
            if l > 0:
                a = self.layer(l - 1, cache.inputs[-1])
            is_output = l == n_layers
            rate = 0.0 if is_output else (input_dropout if l == 0 else dropout)
            mask = _dropout_mask(a.shape, rate, rng, a.dtype)
            cache.activations.append(a)
            cache.masks.append(mask)
            cache.inputs.append(a if mask is None else a * mask)
        return cache

    def backward(self, cache: ForwardCache, delta: np.ndarray) -> list[np.ndarray]:
        """Gradients [dC/dW1, dC/db1, ...] given delta = dC/dz(L) (B, 10)."""
        grads: list[np.ndarray] = []
        for l in reversed(range(len(self.weights))):
            grad_w = delta.T @ cache.inputs[l]  # (n_out,B)@(B,n_in) -> (n_out,n_in)
            grad_b = delta.sum(axis=0)
            grads = [grad_w, grad_b] + grads
            if l == 0:
                break
            grad_a = delta @ self.weights[l]  # (B,n_out)@(n_out,n_in) -> (B,n_in)
            if cache.masks[l] is not None:
                grad_a *= cache.masks[l]
            delta = self.hidden_activation.backward(cache.activations[l], grad_a)
        return grads


def _dropout_mask(shape, rate: float, rng: np.random.Generator | None, dtype) -> np.ndarray | None:
    """Zeros with probability `rate`, 1/(1-rate) elsewhere; None when there is no dropout."""
    if rate <= 0:
        return None
    assert rate < 1 and rng is not None, "dropout needs a rate in [0, 1) and a generator"
    keep = 1.0 - rate
    kept = rng.random(shape, dtype=np.float32) < keep
    return kept.astype(dtype) * np.dtype(dtype).type(1.0 / keep)

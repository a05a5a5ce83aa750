"""The served model: one network, or several whose output probabilities are averaged (an ensemble).

Averaging probabilities of nets trained from different seeds cancels part of their independent
errors; to a caller the ensemble is one model with one predict_proba.

A Model is built from trained networks and computes the same numbers as their own predict_proba,
faster. For one image, the cost of a layer is reading W(l) from memory, not arithmetic, and most of
what W(l) meets is exact zeros: an MNIST digit is about 82% background, and after ReLU about 85% of
the hidden units of the shipped nets are 0. Only the columns of W(l) at non-zero entries of a(l-1)
contribute to W(l) a(l-1), so a single image reads only those (in layers too big for the core's
cache): on the shipped ensemble, about a fifth of the weights per test digit (the README's performance
section has the timings, from scripts/bench_serve.py). Many images at once
are one dense matrix product per layer, where the BLAS kernel is at its best; only the input pixels
that are zero in every image of the batch (the border, mostly) are left out of the first.

To read a layer's columns as contiguous memory the model keeps its own copy of each W(l) transposed,
(n_in, n_out) row-major: a Model is a snapshot, so later changes to the networks' weights (training
them further) are not seen by it.
"""

from __future__ import annotations

import numpy as np

from .network import Network
from .shapes import N_CLASSES, N_INPUTS

# Below this many images, one at a time skipping zeros beats a dense matrix product, whose OpenBLAS
# kernel is slow for a few rows (the crossover was measured on the shipped ensemble: see the README).
DENSE_FROM_ROWS = 8
# Skipping zeros copies the selected rows of W^T first; past this fraction of non-zeros the dense
# product reads less memory (sigmoid and tanh units are never exactly 0).
SKIP_ZEROS_BELOW = 0.5
# A layer this small sits in a core's cache (typically 1 MiB of L2), where reading it whole is cheaper
# than copying out the rows at an MNIST digit's ~140 non-zero pixels.
SKIP_ZEROS_MIN_WEIGHTS = 400_000


class Model:
    def __init__(self, members: list[Network]):
        assert members, "a model needs at least one network"
        for net in members:
            sizes = net.config.layer_sizes
            assert sizes[0] == N_INPUTS and sizes[-1] == N_CLASSES, f"member has layer sizes {sizes}"
        self.members = members
        # W(l)^T (n_in, n_out), row-major: the rows picked by a(l-1)'s non-zeros are contiguous
        self._weights_t = [[np.ascontiguousarray(w.T) for w in net.weights] for net in members]

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities (B, 10) for inputs (B, 784) in [0, 1]; each row sums to 1."""
        return self.predict_proba_and_hidden(x)[0]

    def predict_proba_and_hidden(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """predict_proba(x) (B, 10) and, from the same pass, every member's last hidden layer side by side:
        (B, sum of the members' last hidden sizes), member 1's units first (what the open-set rejector reads)."""
        assert x.ndim == 2 and x.shape[1] == N_INPUTS, f"expected (B, {N_INPUTS}), got {x.shape}"
        x = np.asarray(x, dtype=self.members[0].dtype)
        if 0 < len(x) < DENSE_FROM_ROWS:
            passes = [[_forward_one(net, w_t, x[i : i + 1]) for i in range(len(x))] for net, w_t in self._members()]
            outputs = [(np.concatenate([o for o, _ in rows]), np.concatenate([h for _, h in rows])) for rows in passes]
        else:
            used = np.flatnonzero(x.any(axis=0))  # input pixels that are ink in at least one image
            x_used = x[:, used] if len(used) < N_INPUTS else x
            outputs = [_forward_dense(net, w_t, x_used, used) for net, w_t in self._members()]
        member_proba = [o for o, _ in outputs]
        hidden = np.concatenate([h for _, h in outputs], axis=1) if len(outputs) > 1 else outputs[0][1]
        probabilities = member_proba[0]
        for proba in member_proba[1:]:
            probabilities += proba
        if len(self.members) > 1:
            probabilities /= len(self.members)
        if self.members[0].config.output_activation != "softmax":
            # a sigmoid output layer (the classic net) gives ten independent scores: normalise them
            probabilities /= np.maximum(probabilities.sum(axis=1, keepdims=True), 1e-12)
        return probabilities, hidden

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Most likely digit per row: (B, 784) -> (B,) int."""
        return self.predict_proba(x).argmax(axis=1)

    @property
    def n_parameters(self) -> int:
        return sum(net.config.n_parameters for net in self.members)

    def _members(self) -> list[tuple[Network, list[np.ndarray]]]:
        return list(zip(self.members, self._weights_t))


def _forward_one(net: Network, weights_t: list[np.ndarray], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Output activations (1, 10) and last hidden layer (1, n_{L-1}) of one image x (1, 784), reading only W's columns at non-zero inputs."""
    a = x
    for l, (w_t, b) in enumerate(zip(weights_t, net.biases)):
        hidden = a
        row = a[0]
        z = _product_skipping_zeros(row, w_t) if w_t.size >= SKIP_ZEROS_MIN_WEIGHTS else row @ w_t
        z += b
        a = net.activation_of(l).forward(z[np.newaxis])
    return a, hidden


def _product_skipping_zeros(row: np.ndarray, w_t: np.ndarray) -> np.ndarray:
    """row @ w_t, (n_in,)@(n_in,n_out) -> (n_out,), reading only the rows of w_t where row is non-zero."""
    nonzero = np.flatnonzero(row)
    if len(nonzero) >= SKIP_ZEROS_BELOW * len(row):
        return row @ w_t
    return row[nonzero] @ w_t[nonzero]  # (k,)@(k,n_out) -> (n_out,), k non-zeros of n_in


def _forward_dense(net: Network, weights_t: list[np.ndarray], x_used: np.ndarray, used: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Output activations (B, 10) and last hidden layer (B, n_{L-1}), one matrix product per layer, of images
    whose pixels `used` are x_used (B, k).

    The other 784 - k pixels are zero in every image: the first layer reads only W's columns at `used`.
    """
    a = x_used
    for l, (w_t, b) in enumerate(zip(weights_t, net.biases)):
        hidden = a
        if l == 0 and len(used) < N_INPUTS:
            w_t = w_t[used]  # (k,n_out): the rows of W(1)^T for the pixels some image uses
        z = a @ w_t  # (B,n_in)@(n_in,n_out) -> (B,n_out)
        z += b
        a = net.activation_of(l).forward(z)
    return a, hidden

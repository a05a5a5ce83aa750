"""The served model: one network, or several whose output probabilities are averaged (an ensemble).

Averaging probabilities of nets trained from different seeds cancels part of their independent
errors; to a caller the ensemble is one model with one predict_proba.
"""

from __future__ import annotations

import numpy as np

from .network import Network

N_INPUTS = 784
N_CLASSES = 10


class Model:
    def __init__(self, members: list[Network]):
        assert members, "a model needs at least one network"
        for net in members:
            sizes = net.config.layer_sizes
            assert sizes[0] == N_INPUTS and sizes[-1] == N_CLASSES, f"member has layer sizes {sizes}"
        self.members = members

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities (B, 10) for inputs (B, 784) in [0, 1]; each row sums to 1."""
        probabilities = self.members[0].predict_proba(x)
        for net in self.members[1:]:
            probabilities += net.predict_proba(x)
        if len(self.members) > 1:
            probabilities /= len(self.members)
        if self.members[0].config.output_activation != "softmax":
            # a sigmoid output layer (the classic net) gives ten independent scores: normalise them
            probabilities /= np.maximum(probabilities.sum(axis=1, keepdims=True), 1e-12)
        return probabilities

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Most likely digit per row: (B, 784) -> (B,) int."""
        return self.predict_proba(x).argmax(axis=1)

    @property
    def n_parameters(self) -> int:
        return sum(net.config.n_parameters for net in self.members)

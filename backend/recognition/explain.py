"""Looking inside the network for one image: every layer's activations, and which pixels made the answer.

Which network is explained: the model's forward pass runs each member once (keeping its activations)
and averages them into the model's answer, as predict_proba does; the member whose own probability
for that answer is highest is then explained (the one most sure of what the model said). With a single
network that is simply the network.

The evidence for the winning digit w against the runner-up r (the model's two most probable digits)
explains the difference of the member's output scores s = z_w(L) - z_r(L), taken before the softmax.
For a network of ReLU (or leaky ReLU) units s is piecewise linear in the input x: on the piece that x
lies on, every unit is either on (slope 1) or off (slope 0 or the leak), so

    s(x) = g . x + c,    g = ds/dx,    c = sum over layers l of delta(l) . b(l),   delta(l) = ds/dz(l),

and the per-pixel evidence e_i = g_i x_i with the bias part c add up to s exactly: sum(e) + c == s.
Positive evidence is ink that argued for w, negative ink that argued for r. One backward pass from
delta(L) = e_w - e_r gives both g and c (the delta(l) of each layer meets its b(l) on the way down).
For sigmoid or tanh units s is not piecewise linear: the same numbers are then the first-order (gradient
x input) picture and do not add up (`exact` is False).

The first hidden layer's units are ranked by how much each moved s: unit j contributed
a_j(1) * ds/da_j(1), and its incoming weights W_j(1) are a 28x28 picture of what it looks for.

Cost: the forward pass (each member once) and one backward pass through the explained member, in
float64 so that the decomposition holds to rounding far below the 1e-4 the tests ask; the float64
copies of the weights are made once per Explainer. Both passes read only the weights that meet a
non-zero input (a blank pixel, an off ReLU unit), as the served model's single-image path does. What this module leaves out: HTTP (the service's
routes/explain.py) and drawing the pictures (the page).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backend.nn.model import Model
from backend.nn.shapes import N_INPUTS

PIECEWISE_LINEAR = ("relu", "leaky_relu")
TOP_UNITS = 8


@dataclass(frozen=True)
class Unit:
    """One first-layer hidden unit: its index, activation a_j(1), contribution to s, and W_j(1) (784,)."""

    index: int
    activation: float
    contribution: float
    weights: np.ndarray


@dataclass(frozen=True)
class Explanation:
    digit: int  # the model's answer w
    runner_up: int  # the model's second most probable digit r
    probabilities: np.ndarray  # the model's (10,), averaged over members as predict_proba does
    member: int  # index of the explained network in the model
    activations: list[np.ndarray]  # a(1) .. a(L) of the explained member, (n_l,) each; a(L) its probabilities
    score_difference: float  # s = z_w(L) - z_r(L) of the explained member
    evidence: np.ndarray  # (784,) g_i x_i
    bias: float  # c, the part of s owed to the biases
    exact: bool  # whether sum(evidence) + bias == s holds (piecewise-linear hidden units)
    units: list[Unit]  # the TOP_UNITS first-layer units with the largest |contribution|, largest first


def matvec(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """left @ right, one of them a vector; every product with a weight matrix goes through here (tests count them)."""
    return left @ right


class Explainer:
    """Explains a Model's answers; holds float64 copies of every member's weights and biases."""

    def __init__(self, model: Model):
        self.model = model
        # W(l)^T (n_{l-1}, n_l) row-major: the rows at a(l-1)'s non-zeros (most pixels are blank, most
        # ReLU units off) are contiguous, and both passes read only those
        self.weights_t = [[np.ascontiguousarray(w.T, dtype=np.float64) for w in net.weights] for net in model.members]
        self.biases = [[np.asarray(b, dtype=np.float64) for b in net.biases] for net in model.members]

    def explain(self, pixels: np.ndarray, top_units: int = TOP_UNITS) -> Explanation:
        """Explain the model's answer for one image: pixels (784,) or (1, 784) in [0, 1]."""
        x = np.asarray(pixels, dtype=np.float64).reshape(-1)
        if x.shape != (N_INPUTS,):
            raise ValueError(f"expected {N_INPUTS} pixels, got an array of shape {np.shape(pixels)}")
        # forward: each member once, keeping z(L) and every a(l)
        runs = [self._forward(m, x) for m in range(len(self.model.members))]
        outputs = [activations[-1] for activations, _, _ in runs]
        probabilities = np.mean(outputs, axis=0)
        softmax_output = self.model.members[0].config.output_activation == "softmax"
        if not softmax_output:
            probabilities = probabilities / max(probabilities.sum(), 1e-12)  # as Model.predict_proba does
        ranked = np.argsort(-probabilities, kind="stable")
        win, run = int(ranked[0]), int(ranked[1])
        member = int(np.argmax([out[win] / (1.0 if softmax_output else max(out.sum(), 1e-12)) for out in outputs]))
        activations, logits, nonzero = runs[member]
        net = self.model.members[member]

        # backward: delta(L) = ds/dz(L) = e_w - e_r, then down through the layers. ds/da(l-1) is needed
        # only where a(l-1) != 0: elsewhere an off ReLU unit passes nothing down (and a blank pixel has
        # no evidence), and a unit exactly at z = 0 adds as much through its bias as through its weights
        weights_t, biases = self.weights_t[member], self.biases[member]
        inputs = [x, *activations[:-1]]
        delta = np.zeros_like(logits)
        delta[win], delta[run] = 1.0, -1.0
        bias = 0.0
        grad_first_hidden = np.zeros(0)
        for l in reversed(range(len(weights_t))):
            bias += float(delta @ biases[l])
            rows = nonzero[l]
            grad = matvec(weights_t[l][rows], delta)  # (k,n_l)@(n_l,) -> (k,): ds/da(l-1) at a(l-1)'s non-zeros
            if l == 0:
                break
            if l == 1:
                grad_first_hidden = np.zeros(len(inputs[1]))
                grad_first_hidden[rows] = grad
            delta = np.zeros(len(inputs[l]))
            delta[rows] = net.hidden_activation.backward(inputs[l][rows][np.newaxis], grad[np.newaxis].copy())[0]
        evidence = np.zeros(N_INPUTS)
        evidence[nonzero[0]] = grad * x[nonzero[0]]

        units: list[Unit] = []
        if len(activations) > 1:
            contributions = activations[0] * grad_first_hidden
            for j in np.argsort(-np.abs(contributions), kind="stable")[:top_units]:
                units.append(Unit(int(j), float(activations[0][j]), float(contributions[j]), net.weights[0][j]))
        output = activations[-1] if softmax_output else activations[-1] / max(activations[-1].sum(), 1e-12)
        return Explanation(
            digit=win,
            runner_up=run,
            probabilities=probabilities.astype(np.float32),
            member=member,
            activations=[*activations[:-1], output],
            score_difference=float(logits[win] - logits[run]),
            evidence=evidence,
            bias=bias,
            exact=net.config.activation in PIECEWISE_LINEAR,
            units=units,
        )

    def _forward(self, member: int, x: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, list[np.ndarray]]:
        """a(1) .. a(L) (n_l,) each, z(L) (10,), and the indices of each layer input's non-zeros, of one member for x (784,)."""
        net = self.model.members[member]
        a, activations, nonzero = x, [], []
        for l, (w_t, b) in enumerate(zip(self.weights_t[member], self.biases[member])):
            rows = np.flatnonzero(a)
            z = matvec(a[rows], w_t[rows]) + b  # (k,)@(k,n_l) -> (n_l,): only a(l-1)'s non-zeros contribute
            a = net.activation_of(l).forward(z[np.newaxis].copy())[0]
            activations.append(a)
            nonzero.append(rows)
        return activations, z, nonzero

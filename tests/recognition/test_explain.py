"""The explanation of one answer: activations as the network computes them, evidence that adds up exactly."""

import numpy as np
import pytest

from backend.nn.model import Model
from backend.nn.network import Network, NetworkConfig
from backend.nn.weights import load_model
from backend.paths import MODEL_DIR
from backend.recognition import explain as explain_module
from backend.recognition.explain import Explainer


def make_model(sizes, activation="relu", output="softmax", members=1):
    nets = [Network.initialise(NetworkConfig(sizes, activation, output), np.random.default_rng(seed)) for seed in range(members)]
    for net in nets:  # non-zero biases, so that the bias part of the decomposition is exercised
        for b in net.biases:
            b[...] = np.random.default_rng(len(b)).normal(0, 0.1, b.shape)
    return Model(nets)


@pytest.fixture(scope="module")
def digits(mnist_data):
    return mnist_data.test.images[:20]


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_evidence_and_bias_add_up_to_the_score_difference(digits, activation):
    explainer = Explainer(make_model((784, 64, 32, 10), activation, members=2))
    for x in digits:
        result = explainer.explain(x)
        assert result.exact
        assert result.evidence.sum() + result.bias == pytest.approx(result.score_difference, rel=1e-4, abs=1e-9)


def test_the_shipped_ensemble_explains_its_answers_exactly(digits):
    shipped, _ = load_model(MODEL_DIR)
    explainer = Explainer(shipped)
    for x in digits:
        result = explainer.explain(x)
        assert result.digit == int(shipped.predict(x[np.newaxis])[0])
        assert result.evidence.sum() + result.bias == pytest.approx(result.score_difference, rel=1e-4)


def test_score_difference_is_the_log_odds_of_the_explained_member(digits):
    model = make_model((784, 40, 10), members=3)
    result = Explainer(model).explain(digits[0])
    member_proba = model.members[result.member].predict_proba(digits[:1])[0]  # float32, its own forward pass
    log_odds = np.log(member_proba[result.digit]) - np.log(member_proba[result.runner_up])
    assert result.score_difference == pytest.approx(log_odds, rel=1e-3)


def test_the_explained_member_is_the_one_most_sure_of_the_models_answer(digits):
    model = make_model((784, 40, 10), members=3)
    explainer = Explainer(model)
    for x in digits[:5]:
        result = explainer.explain(x)
        np.testing.assert_allclose(result.probabilities, model.predict_proba(x[np.newaxis])[0], rtol=1e-4, atol=1e-6)
        assert result.digit == int(np.argmax(result.probabilities))
        assert result.runner_up == int(np.argsort(result.probabilities)[-2])
        sure = [net.predict_proba(x[np.newaxis])[0, result.digit] for net in model.members]
        assert result.member == int(np.argmax(sure))


def test_activations_are_the_members_own_layer_by_layer(digits):
    model = make_model((784, 64, 32, 10), members=2)
    x = digits[3]
    result = Explainer(model).explain(x)
    net = model.members[result.member]
    a = x[np.newaxis]
    assert [len(layer) for layer in result.activations] == [64, 32, 10]
    for l, layer in enumerate(result.activations):
        a = net.layer(l, a)
        np.testing.assert_allclose(layer, a[0], rtol=1e-4, atol=1e-5)
    assert result.activations[-1].sum() == pytest.approx(1.0)


def test_evidence_is_the_score_change_per_pixel_on_the_linear_piece(digits):
    explainer = Explainer(make_model((784, 64, 10)))
    x = digits[5].astype(np.float64)
    result = explainer.explain(x)
    assert np.all(result.evidence[x == 0] == 0)  # blank pixels cannot argue either way
    pixel = int(np.argmax(np.abs(result.evidence)))
    nudged = x.copy()
    nudged[pixel] *= 1 - 1e-4  # small enough to stay on the same linear piece
    moved = explainer.explain(nudged)
    assert (moved.digit, moved.runner_up, moved.member) == (result.digit, result.runner_up, result.member)
    assert result.score_difference - moved.score_difference == pytest.approx(result.evidence[pixel] * 1e-4, rel=1e-3)


def test_first_layer_units_are_ranked_by_contribution_and_carry_their_weights(digits):
    model = make_model((784, 16, 10))
    net = model.members[0]
    result = Explainer(model).explain(digits[1], top_units=16)
    sizes = [abs(u.contribution) for u in result.units]
    assert sizes == sorted(sizes, reverse=True) and len(result.units) == 16
    for unit in result.units:
        np.testing.assert_array_equal(unit.weights, net.weights[0][unit.index])
        assert unit.activation == pytest.approx(float(result.activations[0][unit.index]))
    # one hidden layer: s = sum of the units' contributions + the output biases' difference
    output_bias = float(net.biases[1][result.digit] - net.biases[1][result.runner_up])
    assert sum(u.contribution for u in result.units) + output_bias == pytest.approx(result.score_difference, rel=1e-6)
    assert len(Explainer(model).explain(digits[1]).units) == explain_module.TOP_UNITS


def test_one_forward_pass_and_one_backward_pass(digits, monkeypatch):
    model = make_model((784, 32, 16, 10), members=3)
    explainer = Explainer(model)
    products = []
    original = explain_module.matvec
    monkeypatch.setattr(explain_module, "matvec", lambda left, right: products.append(1) or original(left, right))
    explainer.explain(digits[0])
    layers, members = 3, 3
    assert len(products) == members * layers + layers  # each member forward once, the explained one backward once


def test_sigmoid_networks_are_explained_but_not_exactly(digits):
    model = make_model((784, 30, 10), "sigmoid", "sigmoid")
    result = Explainer(model).explain(digits[0])
    assert not result.exact
    assert result.activations[-1].sum() == pytest.approx(1.0)  # normalised, as the model's probabilities are
    assert result.digit == int(model.predict(digits[:1])[0])


def test_wrong_number_of_pixels_is_refused(digits):
    explainer = Explainer(make_model((784, 8, 10)))
    with pytest.raises(ValueError, match="expected 784 pixels, got an array of shape \\(783,\\)"):
        explainer.explain(digits[0][:783])

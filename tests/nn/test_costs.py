import numpy as np
import pytest

from backend.nn.activations import get_activation
from backend.nn.costs import COSTS, get_cost


def test_quadratic_cost_is_half_the_mean_squared_distance():
    a = np.array([[0.5, 0.5], [1.0, 0.0]])
    y = np.array([[1.0, 0.0], [1.0, 0.0]])
    assert get_cost("quadratic").value(a, y) == pytest.approx(0.5 * 0.5 / 2)


def test_cross_entropy_of_a_confident_right_answer_is_small_and_of_a_wrong_one_large():
    y = np.array([[0.0, 1.0]])
    cross_entropy = get_cost("cross_entropy")
    assert cross_entropy.value(np.array([[0.01, 0.99]]), y) == pytest.approx(-np.log(0.99))
    assert cross_entropy.value(np.array([[1.0, 0.0]]), y) > 20  # log floor, not inf


def test_softmax_cross_entropy_delta_is_a_minus_y_over_batch():
    a = np.array([[0.2, 0.8], [0.6, 0.4]])
    y = np.array([[0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_allclose(get_cost("cross_entropy").delta(get_activation("softmax"), a, y), (a - y) / 2)


def test_unknown_cost_is_refused():
    with pytest.raises(ValueError, match="unknown cost 'hinge'"):
        get_cost("hinge")


def test_each_cost_is_registered_under_its_own_name():
    assert all(cost.name == name for name, cost in COSTS.items())
    assert sorted(COSTS) == ["cross_entropy", "quadratic"]

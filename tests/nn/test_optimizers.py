import numpy as np
import pytest

from backend.nn.optimizers import (
    Optimizer,
    OptimizerConfig,
    ScheduleConfig,
    scheduled_rate,
)


def test_sgd_is_the_classic_update():
    w = np.array([[1.0, 2.0]])
    Optimizer(OptimizerConfig(name="sgd", learning_rate=0.5), [w]).step([np.array([[2.0, -4.0]])], 0.5)
    np.testing.assert_allclose(w, [[0.0, 4.0]])


def test_weight_decay_touches_weights_not_biases():
    w, b = np.ones((2, 2)), np.ones(2)
    opt = Optimizer(OptimizerConfig(name="sgd", learning_rate=0.1, weight_decay=0.5), [w, b])
    opt.step([np.zeros((2, 2)), np.zeros(2)], 0.1)
    np.testing.assert_allclose(w, 0.95)
    np.testing.assert_allclose(b, 1.0)


def test_max_norm_caps_each_units_incoming_weights():
    w = np.array([[3.0, 4.0], [0.3, 0.4]])
    Optimizer(OptimizerConfig(name="sgd", learning_rate=0.1, max_norm=1.0), [w]).step([np.zeros((2, 2))], 0.1)
    np.testing.assert_allclose(np.linalg.norm(w, axis=1), [1.0, 0.5])


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_every_optimiser_minimises_a_quadratic_bowl(name):
    target = np.array([[1.0, -2.0, 3.0]])
    w = np.zeros((1, 3))
    opt = Optimizer(OptimizerConfig(name=name, learning_rate=0.1 if name != "adam" else 0.05), [w])
    for _ in range(500):
        opt.step([w - target], 0.1 if name != "adam" else 0.05)
    np.testing.assert_allclose(w, target, atol=1e-3)


def test_adam_first_step_has_the_size_of_the_learning_rate():
    w = np.zeros((1, 2))
    Optimizer(OptimizerConfig(name="adam"), [w]).step([np.array([[10.0, -0.01]])], 0.01)
    np.testing.assert_allclose(w, [[-0.01, 0.01]], rtol=1e-4)


def test_schedules():
    cosine = ScheduleConfig(name="cosine")
    assert scheduled_rate(1.0, cosine, 0.0) == pytest.approx(1.0)
    assert scheduled_rate(1.0, cosine, 0.5) == pytest.approx(0.5)
    assert scheduled_rate(1.0, cosine, 1.0) == pytest.approx(0.0, abs=1e-12)
    step = ScheduleConfig(name="step", step_every=0.5, step_factor=0.1)
    assert scheduled_rate(1.0, step, 0.6) == pytest.approx(0.1)
    warm = ScheduleConfig(name="constant", warmup=0.1)
    assert scheduled_rate(2.0, warm, 0.05) == pytest.approx(1.0)
    assert scheduled_rate(2.0, warm, 0.5) == pytest.approx(2.0)


def test_bad_optimiser_settings_are_refused():
    with pytest.raises(ValueError, match="optimizer must be one of"):
        OptimizerConfig(name="lbfgs")
    with pytest.raises(ValueError, match="learning_rate must be positive"):
        OptimizerConfig(learning_rate=0)
    with pytest.raises(ValueError, match="schedule must be one of"):
        ScheduleConfig(name="linear")


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_follows_its_formula_for_two_steps(nesterov):
    mu, lr = 0.9, 0.1
    w = np.array([[1.0, -1.0]])
    opt = Optimizer(OptimizerConfig(name="momentum", momentum=mu, nesterov=nesterov), [w])
    expected, u = w.copy(), np.zeros_like(w)
    for g in (np.array([[1.0, 2.0]]), np.array([[-0.5, 0.25]])):
        u = mu * u - lr * g
        expected = expected + (mu * u - lr * g if nesterov else u)
        opt.step([g.copy()], lr)
        np.testing.assert_allclose(w, expected)

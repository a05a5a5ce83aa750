"""Training does learn: loss falls on a fixed batch, and a short run on real MNIST beats a stated bar."""

import numpy as np
import pytest

from backend.nn.costs import get_cost
from backend.nn.metrics import accuracy
from backend.nn.mnist import Split
from backend.nn.network import Network, NetworkConfig
from backend.nn.optimizers import Optimizer, OptimizerConfig, ScheduleConfig
from backend.nn.presets import PRESETS
from backend.nn.trainer import TrainConfig, TrainResult, one_hot, train, train_step


@pytest.mark.parametrize("preset", ["classic", "fast"])
def test_loss_goes_down_on_a_fixed_batch(mnist_data, preset):
    config = PRESETS[preset]
    rng = np.random.default_rng(0)
    net = Network.initialise(NetworkConfig((784, 64, 10), config.network.activation, config.network.output_activation), rng)
    optimizer = Optimizer(config.optimizer, net.parameters)
    x, y = mnist_data.train.images[:64], one_hot(mnist_data.train.labels[:64])
    losses = [train_step(net, optimizer, config, x, y, config.optimizer.learning_rate, rng) for _ in range(30)]
    assert losses[-1] < 0.5 * losses[0]


def test_short_training_on_a_few_thousand_images_beats_90_percent(mnist_data):
    config = TrainConfig(
        network=NetworkConfig((784, 128, 10)),
        optimizer=OptimizerConfig(name="momentum", learning_rate=0.1),
        schedule=ScheduleConfig(name="cosine"),
        epochs=4,
        batch_size=64,
    )
    subset = Split(mnist_data.train.images[:5000], mnist_data.train.labels[:5000])
    result = train(config, subset, mnist_data.validation)
    test = mnist_data.test
    assert accuracy(test.labels, result.model.predict(test.images)) > 0.90
    assert len(result.history) == 4 and result.best_epochs[0] >= 1


def test_history_records_loss_and_accuracy_on_both_splits_each_epoch(mnist_data):
    config = TrainConfig(network=NetworkConfig((784, 32, 10)), optimizer=OptimizerConfig(name="momentum", learning_rate=0.1), epochs=3)
    subset = Split(mnist_data.train.images[:3000], mnist_data.train.labels[:3000])
    result = train(config, subset, mnist_data.validation)
    history = result.history
    assert [r.epoch for r in history] == [1, 2, 3]
    assert history[-1].train_loss < history[0].train_loss and history[-1].validation_loss < history[0].validation_loss
    assert history[-1].train_accuracy > history[0].train_accuracy > 0.5
    # the validation figures are the kept network's: recompute the best epoch's from the returned model
    best = max(history, key=lambda r: r.validation_accuracy)
    proba = result.model.predict_proba(mnist_data.validation.images)
    assert best.validation_accuracy == pytest.approx(accuracy(mnist_data.validation.labels, proba.argmax(axis=1)))
    assert best.validation_loss == pytest.approx(get_cost("cross_entropy").value(proba, one_hot(mnist_data.validation.labels)), rel=1e-4)


def wobbling_run(mnist_data, learning_rate: float, epochs: int, **settings) -> TrainResult:
    """Plain SGD at a constant, large rate on 2,000 images: validation accuracy peaks, then swings about."""
    config = TrainConfig(
        network=NetworkConfig((784, 32, 10)),
        optimizer=OptimizerConfig(name="sgd", learning_rate=learning_rate),
        schedule=ScheduleConfig(name="constant"),
        epochs=epochs,
        batch_size=256,
        **settings,
    )
    subset = Split(mnist_data.train.images[:2000], mnist_data.train.labels[:2000])
    return train(config, subset, mnist_data.validation)


def test_selection_keeps_the_best_validation_epoch_and_stops_early(mnist_data):
    # at eta = 0.5 the run peaks after a few epochs and then wobbles
    result = wobbling_run(mnist_data, 0.5, 30, patience=2)
    best_epoch = result.best_epochs[0]
    scores = [r.validation_accuracy for r in result.history]
    assert len(scores) == best_epoch + 2 < 30  # stopped two epochs after the best
    assert scores[best_epoch - 1] == max(scores)
    assert result.validation_accuracy == pytest.approx(max(scores))  # the kept weights are the best epoch's


def test_keeping_the_last_epoch_keeps_its_weights_even_when_an_earlier_one_scored_better(mnist_data):
    # at eta = 1 the run swings by several points from epoch to epoch
    result = wobbling_run(mnist_data, 1.0, 8, keep="last")
    scores = [r.validation_accuracy for r in result.history]
    assert result.best_epochs == [8]  # the epoch whose weights were kept
    assert max(scores) > scores[-1]  # this run's last epoch is not its best...
    assert result.validation_accuracy == pytest.approx(scores[-1])  # ...and still its weights are the ones returned


def test_ensemble_averages_members_trained_from_different_seeds(mnist_data):
    config = TrainConfig(network=NetworkConfig((784, 16, 10)), epochs=1, ensemble=2)
    subset = Split(mnist_data.train.images[:1000], mnist_data.train.labels[:1000])
    result = train(config, subset, mnist_data.validation)
    a, b = result.model.members
    assert not np.array_equal(a.weights[0], b.weights[0])
    x = mnist_data.test.images[:5]
    np.testing.assert_allclose(result.model.predict_proba(x), (a.predict_proba(x) + b.predict_proba(x)) / 2, rtol=1e-5)


def test_training_is_reproducible_with_a_seed(mnist_data):
    config = TrainConfig(network=NetworkConfig((784, 16, 10)), epochs=1, dropout=0.2, seed=3)
    subset = Split(mnist_data.train.images[:500], mnist_data.train.labels[:500])
    first = train(config, subset, mnist_data.validation).model.members[0]
    second = train(config, subset, mnist_data.validation).model.members[0]
    np.testing.assert_array_equal(first.weights[0], second.weights[0])


def test_config_round_trips_through_a_dict():
    config = PRESETS["best"]
    assert TrainConfig.from_dict(config.to_dict()) == config


def test_bad_training_settings_are_refused():
    with pytest.raises(ValueError, match="unknown cost"):
        TrainConfig(cost="hinge")
    with pytest.raises(ValueError, match="dropout rates"):
        TrainConfig(dropout=1.0)
    with pytest.raises(ValueError, match="keep must be one of"):
        TrainConfig(keep="middle")

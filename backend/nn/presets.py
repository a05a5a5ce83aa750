"""Named training recipes: `classic` (the textbook net), `fast` (a good net in about a minute) and
`best` (the shipped model). Each is a complete TrainConfig, so a card records exactly what ran."""

from __future__ import annotations

from .augment import AugmentConfig
from .network import NetworkConfig
from .optimizers import OptimizerConfig, ScheduleConfig
from .trainer import TrainConfig

PRESETS: dict[str, TrainConfig] = {
    # Nielsen's network.py: 784-30-10 sigmoid units, quadratic cost, plain SGD, eta = 3.0, batch 10
    "classic": TrainConfig(
        network=NetworkConfig((784, 30, 10), activation="sigmoid", output_activation="sigmoid"),
        optimizer=OptimizerConfig(name="sgd", learning_rate=3.0),
        schedule=ScheduleConfig(name="constant"),
        cost="quadratic",
        epochs=30,
        batch_size=10,
    ),
    "fast": TrainConfig(
        network=NetworkConfig((784, 800, 800, 10)),
        optimizer=OptimizerConfig(name="momentum", learning_rate=0.05, momentum=0.9),
        schedule=ScheduleConfig(name="cosine"),
        # light affine jitter only: elastic fields would cost more time than they repay in 15 epochs
        augment=AugmentConfig(rotation_deg=8.0, scale=0.08, shear=0.1, shift_px=1.5, elastic_alpha=0.0, stroke_probability=0.0),
        dropout=0.2,
        epochs=15,
    ),
    "best": TrainConfig(
        network=NetworkConfig((784, 800, 800, 10)),
        optimizer=OptimizerConfig(name="momentum", learning_rate=0.05, momentum=0.9),
        schedule=ScheduleConfig(name="cosine", warmup=0.02),
        augment=AugmentConfig(),
        dropout=0.3,
        epochs=250,
        ensemble=3,  # members use seeds seed, seed+1, seed+2; three 800-800 nets keep the folder near 15 MB
        seed=10,
    ),
}
DEFAULT_PRESET = "best"

"""Fixtures shared by the whole suite."""

from pathlib import Path

import pytest

from backend.nn.mnist import load_mnist

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def mnist_data():
    """The real MNIST, verified; from $MNIST_DIR (CI points it at ../shared/datasets/mnist)."""
    return load_mnist()

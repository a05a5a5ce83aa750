"""Fixtures shared by the whole suite."""

import pytest

from backend.nn.mnist import load_mnist


@pytest.fixture(scope="session")
def mnist_data():
    """The real MNIST, verified; from $MNIST_DIR (CI points it at ../shared/datasets/mnist)."""
    return load_mnist()

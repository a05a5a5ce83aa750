"""Fixtures shared by the whole suite."""

from pathlib import Path

import pytest

from backend.nn.mnist import load_mnist


@pytest.fixture(scope="session")
def mnist_data():
    """The real MNIST, verified; from $MNIST_DIR (CI points it at ../shared/datasets/mnist)."""
    return load_mnist()


# tests/containers build images and start a Docker engine: only `make test-containers` (--containers) runs them
CONTAINER_TESTS = Path(__file__).parent / "containers"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--containers", action="store_true", help="also collect tests/containers (Docker; make test-containers)")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path == CONTAINER_TESTS and not config.getoption("--containers"):
        return True
    return None

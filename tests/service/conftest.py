"""Fixtures shared by the service's tests."""

import shutil
from pathlib import Path

import pytest

from backend.paths import MODEL_DIR


@pytest.fixture
def weights_copy(tmp_path: Path) -> Path:
    """A copy of the shipped weights in tmp_path, for tests that corrupt, delete or replace them."""
    copy = tmp_path / "weights"
    shutil.copytree(MODEL_DIR, copy)
    return copy

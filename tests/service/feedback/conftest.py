"""Fixtures for the feedback store's tests: one throwaway PostgreSQL server for the session, and a
`database_url` fixture that runs a test once on a fresh SQLite file and once on a fresh PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backend.testing.postgres import ThrowawayPostgres


@pytest.fixture(scope="session")
def postgres() -> Iterator[ThrowawayPostgres]:
    with ThrowawayPostgres() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """DATABASE_URL for an empty database: "" (the SQLite file under DATA_DIR) or a new PostgreSQL database."""
    if request.param == "sqlite":
        return ""
    return request.getfixturevalue("postgres").fresh_database()

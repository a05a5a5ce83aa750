"""Fixtures for the route tests: one app on the shipped weights, shared by the session, and a factory
for apps with other settings."""

from __future__ import annotations

import pytest

from backend.service.settings import Settings
from backend.testing.service import serve_asgi, settings_for


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return settings_for(tmp_path_factory.mktemp("service"))


@pytest.fixture(scope="session")
async def client(settings: Settings):
    async with serve_asgi(settings) as client:
        yield client

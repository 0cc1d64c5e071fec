"""Fixtures for adapter contract tests.

``sandbox_client(app, name)`` drives an adapter against a simulated source through
``httpx.ASGITransport`` (realistic routing, with the request recorder), and
``mock_client(handler, name)`` through ``httpx.MockTransport`` for failure injection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack

import httpx
import pytest
from starlette.types import ASGIApp

from sandbox.control import Controlled
from sandbox.population import Population, build_population
from sources.base import SourceClient, SourceConfig

SandboxClientFactory = Callable[[ASGIApp, str], tuple[SourceClient, Controlled]]
MockClientFactory = Callable[[Callable[[httpx.Request], httpx.Response], str], SourceClient]


@pytest.fixture(scope="session")
def population() -> Population:
    return build_population(seed=2016, patients=50)


@pytest.fixture
async def sandbox_client() -> AsyncIterator[SandboxClientFactory]:
    async with AsyncExitStack() as stack:

        def make(app: ASGIApp, name: str) -> tuple[SourceClient, Controlled]:
            controlled = Controlled(app, name)
            config = SourceConfig(name=name, base_url=f"http://{name}.sandbox", timeout_s=2.0, retries=0)
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=controlled), base_url=config.base_url)
            stack.push_async_callback(client.aclose)
            return SourceClient(config, client), controlled

        yield make


@pytest.fixture
async def mock_client() -> AsyncIterator[MockClientFactory]:
    async with AsyncExitStack() as stack:

        def make(handler: Callable[[httpx.Request], httpx.Response], name: str) -> SourceClient:
            config = SourceConfig(name=name, base_url=f"http://{name}.mock", timeout_s=1.0, retries=0)
            client = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url=config.base_url)
            stack.push_async_callback(client.aclose)
            return SourceClient(config, client)

        yield make

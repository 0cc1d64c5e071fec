"""The access log's database goes away and comes back, under a running gateway (ADR 0024).

The gateway reaches the real PostgreSQL through a TCP proxy the test controls: stopping it drops every
connection and refuses new ones (the database is gone), starting it on the same port brings the
database back. Meanwhile answers fail closed (``ACCESS_LOG_UNAVAILABLE``, no data) in under 0.5 s
each, ``/readyz`` says not ready and why, and service resumes within 1 s of the database returning.
Under ``CI=true`` this runs against the real server or fails (``tests/auth/conftest.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from auth.access_log import open_access_log
from sandbox.server import ThreadedSandbox
from tests.auth.conftest import postgres_server_url, postgres_url
from tests.e2e.conftest import HANS, OVERVIEW, Gateway, settings_for, start_gateway

__all__ = ["postgres_server_url", "postgres_url"]  # fixtures used here

pytestmark = pytest.mark.postgres

# Generous against a loaded machine, far below what the fault cost: a dead database held every answer for the
# pool's 10 s, and service lagged up to ~6.6 s behind the database's return (issue 15).
FAIL_CLOSED_WITHIN_S = 2.0
RESUMES_WITHIN_S = 3.0


class Proxy:
    """A TCP proxy to the database that can be stopped (every connection dropped) and started again."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """The database is gone: the port refuses connections, and every open one is cut (RST)."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, upstream_writer}
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        sink.transport.abort()
        self._writers.discard(sink)


def through(url: str, port: int) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{host + '@' if host else ''}127.0.0.1:{port}"))


@pytest.fixture
async def proxied(postgres_url: str) -> AsyncIterator[tuple[Proxy, str]]:
    parts = urlsplit(postgres_url)
    proxy = Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    yield proxy, through(postgres_url, proxy.port)
    await proxy.stop()


async def overview(gateway: Gateway) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    body = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)
    return body, time.monotonic() - started


async def test_the_access_log_going_away_fails_answers_fast_and_service_resumes_when_it_is_back(
    sandbox: ThreadedSandbox, tmp_path: Path, proxied: tuple[Proxy, str]
) -> None:
    proxy, url = proxied
    settings = settings_for(sandbox, tmp_path, database_url=url, readiness={"cache_s": 0.0})
    store = open_access_log(url, settings.access_log.policy())  # the default waits, as in production
    async for gateway in start_gateway(sandbox, settings, store):
        served, _ = await overview(gateway)
        assert served["data"]["patient"] is not None and "errors" not in served
        assert (await gateway.client.get("/readyz")).status_code == 200

        await proxy.stop()
        failed = [await overview(gateway) for _ in range(5)]
        together = await asyncio.gather(*(overview(gateway) for _ in range(10)))
        not_ready = await gateway.client.get("/readyz")

        for body, seconds in failed:
            assert body["data"] is None
            assert [e["extensions"]["code"] for e in body["errors"]] == ["ACCESS_LOG_UNAVAILABLE"]
            assert seconds < FAIL_CLOSED_WITHIN_S
        assert all(body["data"] is None for body, _ in together)
        assert not_ready.status_code == 503
        assert not_ready.json()["checks"]["access_log"]["state"] == "failing"
        assert HANS not in not_ready.text

        await proxy.start()
        back = time.monotonic()
        resumed = None
        while resumed is None and time.monotonic() - back < 5 * RESUMES_WITHIN_S:
            body, _ = await overview(gateway)
            if body["data"] is not None:
                resumed = time.monotonic() - back
        ready = await gateway.client.get("/readyz")

        assert resumed is not None and resumed < RESUMES_WITHIN_S, resumed
        assert ready.status_code == 200
        # No record of an answer that failed closed; one of each that carried data.
        records = await store.for_patient(HANS, limit=100)
        assert all(record.returned for record in records)
    await store.aclose()

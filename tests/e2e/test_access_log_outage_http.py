"""The access log's database goes away or goes silent, and comes back, under a running gateway (ADR 0024, 0028).

The gateway reaches the real PostgreSQL through a TCP proxy the test controls (:mod:`tests.tcp_proxy`):
stopping it drops every connection and refuses new ones (the database is gone), starting it on the
same port brings the database back; stalling it leaves every connection open and silent (a SIGSTOPped
proxy), resuming it wakes them. Meanwhile answers fail closed (``ACCESS_LOG_UNAVAILABLE``, no data)
within a bound each, ``/readyz`` says not ready and why, and service resumes once the database is back.
Under ``CI=true`` this runs against the real server or fails (``tests/auth/conftest.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from auth.access_log import open_access_log
from sandbox.server import ThreadedSandbox
from tests.auth.conftest import postgres_server_url, postgres_url
from tests.e2e.conftest import HANS, OVERVIEW, Gateway, settings_for, start_gateway
from tests.tcp_proxy import Proxy, through

__all__ = ["postgres_server_url", "postgres_url"]  # fixtures used here

pytestmark = pytest.mark.postgres

# Generous against a loaded machine, far below what the fault cost: a dead database held every answer for the
# pool's 10 s, and service lagged up to ~6.6 s behind the database's return (issue 15).
FAIL_CLOSED_WITHIN_S = 2.0
RESUMES_WITHIN_S = 3.0


@pytest.fixture
async def proxied(postgres_url: str) -> AsyncIterator[tuple[Proxy, str]]:
    parts = urlsplit(postgres_url)
    proxy = Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    yield proxy, through(postgres_url, proxy.port)
    proxy.resume()
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


async def test_a_silent_access_log_database_fails_every_answer_closed_in_bounded_time_and_service_resumes(
    sandbox: ThreadedSandbox, tmp_path: Path, proxied: tuple[Proxy, str]
) -> None:
    proxy, url = proxied
    access_log = {"acquire_timeout_s": 0.25, "statement_timeout_s": 0.5}
    settings = settings_for(sandbox, tmp_path, database_url=url, readiness={"cache_s": 0.0}, access_log=access_log)
    bound_s = 0.25 + 0.5 + 2.0  # generous: the fault was ~190 s, until the connection woke
    store = open_access_log(url, settings.access_log.policy())
    async for gateway in start_gateway(sandbox, settings, store):
        served, _ = await overview(gateway)
        assert served["data"]["patient"] is not None and "errors" not in served

        proxy.stall()
        one_by_one = [await overview(gateway) for _ in range(3)]
        together = await asyncio.gather(*(overview(gateway) for _ in range(10)))
        not_ready = await gateway.client.get("/readyz")

        answered = [*one_by_one, *together]
        assert len(answered) == 13
        for body, seconds in answered:
            assert body["data"] is None
            assert [e["extensions"]["code"] for e in body["errors"]] == ["ACCESS_LOG_UNAVAILABLE"]
            assert seconds < bound_s, seconds
        assert not_ready.status_code == 503
        assert not_ready.json()["checks"]["access_log"]["state"] == "failing"

        proxy.resume()
        woke = time.monotonic()
        resumed = False
        while not resumed and time.monotonic() - woke < 10 * bound_s:
            body, _ = await overview(gateway)
            resumed = body["data"] is not None
        ready = await gateway.client.get("/readyz")

        assert resumed
        assert ready.status_code == 200
        records = await store.for_patient(HANS, limit=100)
        assert all(record.returned for record in records)
    await store.aclose()

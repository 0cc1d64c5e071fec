"""Cost and rate limits per caller: over them is a coded refusal before anything is decided or fetched.

- an operation over the caller's ``max_cost`` is ``QUERY_TOO_COMPLEX`` (``limit: maxCost``);
- requests and cost per window are ``RATE_LIMITED``: HTTP 429, ``Retry-After``, ``extensions.retryAfter``;
- each caller has its own windows; a registered client's budget replaces the defaults;
- with ``PATIENTOVERBLIK_REDIS_URL`` two gateways share one limit (the real Redis at 127.0.0.1:6379;
  without it the test skips, under CI=true it fails);
- a Redis that goes away lets requests through unchecked: logged once when it goes and once when it is
  back (not once a request), counted in metrics.
"""

from __future__ import annotations

import logging
import random
import uuid
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from auth.access_log import SqliteAccessLog
from gateway.metrics import RATE_LIMIT_STORE_AVAILABLE, RATE_LIMIT_UNCHECKED, RATE_LIMITED
from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import (
    DOCTOR_WITH_RELATIONS,
    HANS,
    KOL,
    OVERVIEW,
    Gateway,
    gateway_with,
    recorded,
    settings_for,
    start_gateway,
)
from tests.e2e.instances import redis_url
from tests.tcp_proxy import Proxy, through

__all__ = ["redis_url"]  # fixture used here

ME = "query Me { me { kind } }"


async def test_requests_over_the_window_are_rate_limited_per_caller(sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    before = RATE_LIMITED.labels("requests")._value.get()
    async for gateway in gateway_with(sandbox, tmp_path, rate_limit_requests=3):
        hans = gateway.citizen(HANS)
        answers = [await gateway.post(ME, hans) for _ in range(4)]
        other = await gateway.post(ME, gateway.citizen(KOL))

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert other.status_code == 200
    assert RATE_LIMITED.labels("requests")._value.get() == before + 1  # the operator sees it in /metrics


async def test_an_operation_over_max_cost_is_refused_before_anything_is_asked(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    async for gateway in gateway_with(sandbox, tmp_path, max_cost=10, rate_limit_cost=10):
        body = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)
        records = await gateway.access_log.for_patient(HANS)

    [error] = body["errors"]
    assert body["data"] is None
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "limit": "maxCost", "maximum": 10}
    assert error["message"].startswith("The operation costs ")
    assert recorded(sandbox, "cpr") == recorded(sandbox, "stamkort") == 0
    assert records == []


async def test_cost_over_the_window_is_rate_limited_and_nothing_is_asked(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    async for gateway in gateway_with(sandbox, tmp_path, max_cost=40, rate_limit_cost=50):
        first = await gateway.post(OVERVIEW, gateway.citizen(HANS), cpr=HANS)
        asked = recorded(sandbox, "cpr")
        second = await gateway.post(OVERVIEW, gateway.citizen(HANS), cpr=HANS)

    assert first.status_code == 200
    assert second.status_code == 429
    [error] = second.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] == int(second.headers["retry-after"])
    assert recorded(sandbox, "cpr") == asked


async def test_a_registered_clients_budget_replaces_the_defaults(sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    clients = {"epj-small": {"name": "EPJ (small budget)", "fields": ["Query.patient"], "requests_per_window": 1}}
    async for gateway in gateway_with(sandbox, tmp_path, clients=clients):
        token = gateway.token(actor_kind="system", client_id="epj-small", authorization_id=DOCTOR_WITH_RELATIONS)
        limits = await gateway.graphql("{ me { client { limits { requestsPerWindow maxCost } } } }", token)
        again = await gateway.post(ME, token)

    assert limits["data"]["me"]["client"]["limits"] == {"requestsPerWindow": 1, "maxCost": 5000}
    assert again.status_code == 429


async def two_gateways(
    sandbox: ThreadedSandbox, tmp_path: Path, stack: AsyncExitStack, **overrides: Any
) -> list[Gateway]:
    """Two gateway app instances, each with its own settings object, limiter and access log."""
    gateways = []
    for index in range(2):
        folder = tmp_path / f"gateway-{index}"
        folder.mkdir()
        store = SqliteAccessLog(folder / "access.db")
        stack.push_async_callback(store.aclose)
        running = asynccontextmanager(start_gateway)(sandbox, settings_for(sandbox, folder, **overrides), store)
        gateways.append(await stack.enter_async_context(running))
    return gateways


@pytest.mark.redis
@pytest.mark.parametrize("shared", [True, False])
async def test_two_gateways_sharing_redis_enforce_one_limit(
    redis_url: str, sandbox: ThreadedSandbox, tmp_path: Path, shared: bool
) -> None:
    client_id = f"epj-{uuid.uuid4().hex[:12]}"  # a key no earlier run has counted
    clients = {client_id: {"name": "EPJ (two gateways)", "fields": ["Query.patient"], "requests_per_window": 4}}
    overrides: dict[str, Any] = {"clients": clients, "redis_url": redis_url if shared else None}
    async with AsyncExitStack() as stack:
        first, second = await two_gateways(sandbox, tmp_path, stack, **overrides)
        token = first.token(actor_kind="system", client_id=client_id, authorization_id=DOCTOR_WITH_RELATIONS)
        statuses = []
        for gateway in (first, second, first, second, first, second):
            statuses.append((await gateway.post(ME, token)).status_code)

    if shared:
        assert statuses == [200, 200, 200, 200, 429, 429]
    else:  # each process alone: 3 each, all under its own limit of 4
        assert statuses == [200] * 6


async def test_an_unreachable_redis_lets_requests_through(sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    async for gateway in gateway_with(sandbox, tmp_path, redis_url="redis://127.0.0.1:9/0", rate_limit_requests=1):
        answers = [await gateway.post(ME) for _ in range(2)]

    assert [a.status_code for a in answers] == [200, 200]


@pytest.mark.redis
async def test_a_redis_going_away_and_back_is_logged_once_each_way_and_counted(
    redis_url: str, sandbox: ThreadedSandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    parts = urlsplit(redis_url)
    proxy = Proxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    await proxy.start()
    window_s = random.randrange(10_000, 86_400)  # Redis keys of this run's own
    settings = {
        "redis_url": through(redis_url, proxy.port),
        "rate_limit_requests": 1000,
        "rate_limit_window_s": window_s,
    }
    unchecked = RATE_LIMIT_UNCHECKED.labels("requests")
    before = unchecked._value.get()
    caplog.set_level(logging.INFO, logger="patientoverblik.rate_limit")
    statuses = []
    try:
        async for gateway in gateway_with(sandbox, tmp_path, **settings):
            for _ in range(2):  # away and back, twice
                statuses += [(await gateway.post(ME)).status_code for _ in range(2)]
                await proxy.stop()
                statuses += [(await gateway.post(ME)).status_code for _ in range(5)]
                assert RATE_LIMIT_STORE_AVAILABLE._value.get() == 0
                await proxy.start()
                statuses += [(await gateway.post(ME)).status_code for _ in range(2)]
                assert RATE_LIMIT_STORE_AVAILABLE._value.get() == 1
    finally:
        await proxy.stop()

    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "patientoverblik.rate_limit"]
    assert statuses == [200] * 18
    assert [level for level, _ in lines] == ["WARNING", "INFO", "WARNING", "INFO"], lines
    back = [r for r in caplog.records if r.name == "patientoverblik.rate_limit" and r.levelname == "INFO"]
    assert [r.__dict__.get("unchecked") for r in back] == [10, 10]  # 5 requests, each its request and cost checks
    assert unchecked._value.get() == before + 10

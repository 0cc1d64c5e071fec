"""Slow, huge and odd upstreams through real HTTP: the issuer's key set, dripping sources, huge documents.

The sandbox serves the quirks (``docs/sandbox.md``): the issuer publishes odd keys before its signing
key and rotates; any source drips its body a byte at a time, pads it with spaces or compresses it.
The tests count what the servers received and sent; the only clock is a generous upper bound that
the old behaviour (minutes) would miss by far.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from auth.access_log import SqliteAccessLog
from gateway.settings import SourceSettings
from sandbox.dds import documents
from sandbox.odd_keys import ODD_KEYS
from sandbox.population import Population
from sandbox.server import ThreadedSandbox
from sources.transport import HttpTransport
from tests.e2e.conftest import HANS, OVERVIEW, Gateway, error_codes, settings_for, start_gateway
from tests.e2e.test_appointments_http import APPOINTMENTS, hans_range, nodes

ME = "{ me { kind } }"
JWKS = "/.well-known/jwks.json"
GIB = 1024 * 1024 * 1024


def jwks_fetches(sandbox: ThreadedSandbox) -> int:
    return sandbox.control("issuer").recorder.paths().count(JWKS)


@pytest.fixture(params=list(HttpTransport), ids=str)
def transport(request: pytest.FixtureRequest) -> HttpTransport:
    """Every test here runs on each transport the gateway can use (ADR 0013)."""
    transport: HttpTransport = request.param
    return transport


@pytest.fixture
async def gateway(sandbox: ThreadedSandbox, tmp_path: Path, transport: HttpTransport) -> AsyncIterator[Gateway]:
    async for running in gateway_with(sandbox, tmp_path, transport):
        yield running


async def gateway_with(
    sandbox: ThreadedSandbox, tmp_path: Path, transport: HttpTransport, **overrides: Any
) -> AsyncIterator[Gateway]:
    settings = settings_for(sandbox, tmp_path, http_transport=transport, **overrides)
    async for running in start_gateway(sandbox, settings, SqliteAccessLog(tmp_path / "access.db")):
        yield running


@pytest.mark.parametrize("odd", [*ODD_KEYS, "all"])
async def test_odd_keys_published_before_the_signing_key_never_fail_a_valid_token(gateway: Gateway, odd: str) -> None:
    issuer = gateway.sandbox.sandbox.issuer
    assert issuer is not None
    issuer.set_extra_keys(list(ODD_KEYS) if odd == "all" else [odd])

    response = await gateway.post(ME, gateway.citizen(HANS))

    assert response.status_code == 200, response.text
    assert response.json()["data"]["me"]["kind"] == "CITIZEN"


async def test_a_rotation_that_adds_odd_keys_is_taken_with_a_warm_cache(gateway: Gateway) -> None:
    issuer = gateway.sandbox.sandbox.issuer
    assert issuer is not None
    assert (await gateway.post(ME, gateway.citizen(HANS))).status_code == 200

    issuer.set_extra_keys(["unknown-curve", "malformed-rsa", "oversized-rsa"])
    issuer.rotate()
    response = await gateway.post(ME, gateway.citizen(HANS))

    assert response.status_code == 200, response.text
    assert jwks_fetches(gateway.sandbox) == 2


async def test_a_dripping_key_set_with_nothing_cached_gives_401_within_the_deadline(
    sandbox: ThreadedSandbox, tmp_path: Path, transport: HttpTransport
) -> None:
    sandbox.control("issuer").faults.update({"drip_ms": 200})  # about 90 s for the whole key set
    async for gateway in gateway_with(sandbox, tmp_path, transport, token_jwks_timeout_s=0.5):
        started = time.monotonic()
        responses = await asyncio.gather(*(gateway.post(ME, gateway.citizen(HANS)) for _ in range(3)))
        elapsed = time.monotonic() - started

    assert [r.status_code for r in responses] == [401, 401, 401]
    assert {r.json()["errors"][0]["extensions"]["code"] for r in responses} == {"UNAUTHENTICATED"}
    assert jwks_fetches(sandbox) == 1  # three requests, one fetch
    assert elapsed < 30  # the drip would take minutes


async def test_requests_never_wait_for_a_dripping_background_refresh(
    sandbox: ThreadedSandbox, tmp_path: Path, transport: HttpTransport
) -> None:
    async with httpx.AsyncClient() as http:
        key_set = len((await http.get(sandbox.url("issuer") + JWKS)).content)
    async for gateway in gateway_with(
        sandbox, tmp_path, transport, token_keys_refresh_s=0.0, token_jwks_timeout_s=60.0
    ):
        assert (await gateway.post(ME, gateway.citizen(HANS))).status_code == 200
        issuer = sandbox.control("issuer")
        await every_key_set_counted(sandbox, key_set)
        fetched, sent = jwks_fetches(sandbox), issuer.recorder.bytes_sent
        issuer.faults.update({"drip_ms": 200})

        responses = await asyncio.gather(*(gateway.post(ME, gateway.citizen(HANS)) for _ in range(3)))

        assert [r.status_code for r in responses] == [200, 200, 200]
        # The refresh, if it started, is still dripping: a byte every 200 ms, 100 of them would be 20 s
        # under load, and the key set is far longer (counted, not timed).
        assert issuer.recorder.bytes_sent - sent < 100 < key_set
        async with asyncio.timeout(30):
            while jwks_fetches(sandbox) == fetched:  # noqa: ASYNC110 - the refresh reaches a server in another thread
                await asyncio.sleep(0.01)
        assert (await gateway.post(ME, gateway.citizen(HANS))).status_code == 200
        assert jwks_fetches(sandbox) == fetched + 1  # one refresh for all four requests, none waiting for it


async def every_key_set_counted(sandbox: ThreadedSandbox, key_set: int) -> None:
    """Wait until every key set the issuer sent so far is counted whole: the sandbox runs in another thread
    and may count a body's last bytes after the client read them, so a count taken at once could still
    grow by a whole key set sent before the knob was turned (what made this test flaky under load)."""
    issuer = sandbox.control("issuer").recorder
    async with asyncio.timeout(30):
        while issuer.bytes_sent < key_set * jwks_fetches(sandbox):  # noqa: ASYNC110 - another thread counts
            await asyncio.sleep(0.01)


def one_document_of_hans(population: Population) -> str:
    return next(d.id for d in documents(population) if d.appointment.cpr == HANS and d.status == "current")


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
async def test_a_huge_dds_document_is_read_only_up_to_the_limit(
    gateway: Gateway, population: Population, encoding: str
) -> None:
    dds = gateway.sandbox.control("dds")
    dds.faults.update({"pad_path": f"/fhir/Binary/{one_document_of_hans(population)}", "pad_bytes": GIB})
    dds.faults.update({"encoding": encoding})

    body = await gateway.graphql(APPOINTMENTS, gateway.citizen(HANS), cpr=HANS, **hans_range(population))

    assert error_codes(body) == [("SOURCE_INVALID_RESPONSE", "dds")]
    assert "dds" in {n["source"] for n in nodes(body)}, "the other documents still came through"
    assert dds.recorder.bytes_sent < 64 * 1024 * 1024  # the limit and socket buffers, not a gigabyte


async def test_compressed_answers_are_decoded(gateway: Gateway, population: Population) -> None:
    for name in ("dds", "cpr", "region-syddanmark"):
        gateway.sandbox.control(name).faults.update({"encoding": "gzip"})

    body = await gateway.graphql(APPOINTMENTS, gateway.citizen(HANS), cpr=HANS, **hans_range(population))

    assert error_codes(body) == []
    assert {"dds", "region-syddanmark"} <= {n["source"] for n in nodes(body)}


LOOKUPS = {"cpr": ["person"], "yderregister": ["generalPractitioner"], "stamkort": ["masterCard"]}


@pytest.mark.parametrize("source", list(LOOKUPS))
async def test_an_oversized_lookup_answer_is_the_sources_invalid_response(gateway: Gateway, source: str) -> None:
    control = gateway.sandbox.control(source)
    control.faults.update({"pad_bytes": 256 * 1024 * 1024})

    body = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)

    assert ("SOURCE_INVALID_RESPONSE", source) in error_codes(body)
    assert body["data"]["patient"][LOOKUPS[source][0]] is None
    assert control.recorder.bytes_sent < 32 * 1024 * 1024  # the limit and socket buffers


@pytest.mark.parametrize("source", list(LOOKUPS))
async def test_a_dripping_lookup_answer_is_the_sources_timeout(
    sandbox: ThreadedSandbox, tmp_path: Path, transport: HttpTransport, source: str
) -> None:
    sandbox.control(source).faults.update({"drip_ms": 50})
    slow = SourceSettings(base_url=sandbox.url(source), timeout_s=0.5, retries=1)
    async for gateway in gateway_with(sandbox, tmp_path, transport, **{source: slow}):
        body = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)

    assert ("SOURCE_TIMEOUT", source) in error_codes(body)
    assert body["data"]["patient"]["person" if source != "cpr" else "masterCard"] is not None

"""Every source failure reaches the client as the code that names what happened (ADR 0024).

The table of every adapter call (``tests/contract/test_bounded_calls.py``) runs against every kind of
failure: a timeout, a refused connection, a 5xx, a 4xx, a body that is not the wire format, a body
over the limit, an open breaker, and no time left in the request's deadline. Whatever the call does
with the failure (raise it, or keep it as a problem of its answer), each error it yields is coded by
the gateway's one table (:func:`gateway.errors.code_of`) as the kind says: ``SOURCE_TIMEOUT``,
``SOURCE_UNAVAILABLE`` or ``SOURCE_INVALID_RESPONSE``, never another. A DDS document's fetch, the
second call behind the index, is checked per kind too.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from graphql import GraphQLError

from gateway.errors import ErrorCode, code_of
from sources import deadline
from sources.base import SourceClient, SourceConfig, build_client
from sources.clinical import Endpoint, ItemsAnswer
from sources.dds import DdsAppointmentSource
from sources.errors import SourceError
from sources.transport import HttpTransport, build_transport
from tests.contract.loopback import MOCK, Upstreams
from tests.contract.test_bounded_calls import CALLS, HANS, LIMIT, SEARCH, Upstream

Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]


@dataclass(frozen=True)
class Fault:
    """One kind of failure: the upstream's behaviour, and the code the client must see."""

    code: ErrorCode
    handler: Handler | None = None
    """What the upstream does (``None``: see ``refused``, ``breaker_open`` and ``no_time_left``)."""
    refused: bool = False
    """Nothing listens on the source's port."""
    breaker_open: bool = False
    no_time_left: bool = False
    asks: bool = True
    """Whether a request reaches the upstream (an open breaker or no time left asks nothing)."""


async def _hang(request: httpx.Request) -> httpx.Response:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


def _status(status: int) -> Handler:
    async def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"resourceType": "OperationOutcome"})

    return answer


async def _not_json(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "application/json"}, content=b"{not json")


async def _endless(request: httpx.Request) -> httpx.Response:
    return Upstream().handler(request)


async def _ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={})


FAULTS: dict[str, Fault] = {
    "timeout": Fault(ErrorCode.SOURCE_TIMEOUT, _hang),
    "connection_refused": Fault(ErrorCode.SOURCE_UNAVAILABLE, refused=True),
    "server_error": Fault(ErrorCode.SOURCE_UNAVAILABLE, _status(503)),
    "client_error": Fault(ErrorCode.SOURCE_UNAVAILABLE, _status(403)),
    "invalid_body": Fault(ErrorCode.SOURCE_INVALID_RESPONSE, _not_json),
    "oversized_body": Fault(ErrorCode.SOURCE_INVALID_RESPONSE, _endless),
    "breaker_open": Fault(ErrorCode.SOURCE_UNAVAILABLE, _ok, breaker_open=True, asks=False),
    "no_time_left": Fault(ErrorCode.SOURCE_TIMEOUT, _ok, no_time_left=True, asks=False),
}


@pytest.fixture
async def upstreams() -> AsyncIterator[Upstreams]:
    made = Upstreams(MOCK)
    yield made
    await made.aclose()
    for client in REFUSED_CLIENTS:
        await client.aclose()
    REFUSED_CLIENTS.clear()


REFUSED_CLIENTS: list[SourceClient] = []
"""Clients to a closed port made by a test, closed after it."""


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass
class Counted:
    requests: int = 0


async def client_for(fault: Fault, name: str, upstreams: Upstreams, counted: Counted) -> SourceClient:
    config = SourceConfig(name, f"http://{name}.mock", timeout_s=0.2, retries=0, max_body_bytes=LIMIT)
    if fault.refused:
        config = SourceConfig(name, f"http://127.0.0.1:{closed_port()}", timeout_s=2.0, retries=0)
        refused = SourceClient(config, build_client(config, build_transport(HttpTransport.AIOHTTP)))
        REFUSED_CLIENTS.append(refused)
        return refused
    handler = fault.handler
    assert handler is not None

    async def counting(request: httpx.Request) -> httpx.Response:
        counted.requests += 1
        return await handler(request)

    client = await upstreams.client(counting, config)
    if fault.breaker_open:
        for _ in range(config.breaker.failures):
            client.breaker.admit()
            client.breaker.failed()
    return client


@contextmanager
def request_deadline(fault: Fault) -> Iterator[None]:
    """For ``no_time_left``: a request whose deadline has passed; otherwise no request deadline."""
    token = deadline.start(0.0, 0.2) if fault.no_time_left else deadline.none()
    try:
        yield
    finally:
        deadline.reset(token)


def errors_in(outcome: object) -> list[SourceError]:
    """The source errors a call raised or kept in its answer (problems, per-key errors)."""
    if isinstance(outcome, SourceError):
        return [outcome]
    if isinstance(outcome, ItemsAnswer):
        return [problem.error for problem in outcome.problems]
    if isinstance(outcome, dict):
        return [error for value in outcome.values() for error in errors_in(value)]
    problems = getattr(outcome, "problems", ())
    return [problem for problem in problems if isinstance(problem, SourceError)]


def client_code(error: SourceError) -> str:
    """The ``extensions.code`` the gateway gives this error."""
    return code_of(GraphQLError("failed", original_error=error)).value


async def outcome_of(call: Callable[[], Awaitable[Any]]) -> object:
    try:
        return await call()
    except SourceError as error:
        return error


SHARED_FETCHES = {"TokenProvider.token"}
"""Calls whose work many requests share: it runs under no request's deadline (the calls waiting for it
do, and never start without time left: the other calls' ``no_time_left``)."""


@pytest.mark.parametrize(
    ("call", "fault"),
    [(c, f) for c in CALLS for f in FAULTS if not (f == "no_time_left" and c in SHARED_FETCHES)],
)
async def test_every_adapter_call_names_what_happened(call: str, fault: str, upstreams: Upstreams) -> None:
    counted = Counted()
    client = await client_for(FAULTS[fault], call.split(".")[0], upstreams, counted)

    with request_deadline(FAULTS[fault]):
        errors = errors_in(await outcome_of(lambda: CALLS[call](client)))

    assert errors, "the failure must be reported"
    assert {client_code(error) for error in errors} == {FAULTS[fault].code.value}
    assert {error.source for error in errors} == {client.name}
    if not FAULTS[fault].asks:
        assert counted.requests == 0


DOCUMENT_PATH = "/repository/apd-1.xml"


def index_with_one_document(request: httpx.Request) -> httpx.Response:
    entry = {
        "resourceType": "DocumentReference",
        "id": "apd-1",
        "status": "current",
        "subject": {"identifier": {"system": "urn:oid:1.2.208.176.1.2", "value": HANS}},
        "content": [{"attachment": {"url": f"http://dds.mock{DOCUMENT_PATH}", "contentType": "text/xml"}}],
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": entry, "search": {"mode": "match"}}],
    }
    return httpx.Response(200, json=bundle)


@pytest.mark.parametrize("fault", [name for name, fault in FAULTS.items() if fault.asks and not fault.refused])
async def test_a_dds_document_that_cannot_be_fetched_is_named_by_what_happened(
    fault: str, upstreams: Upstreams
) -> None:
    """The index answers; the document behind it fails (a 503 on a document is the repository down)."""
    handler = FAULTS[fault].handler
    assert handler is not None

    async def dds(request: httpx.Request) -> httpx.Response:
        if request.url.path == DOCUMENT_PATH:
            return await handler(request)
        return index_with_one_document(request)

    config = SourceConfig("dds", "http://dds.mock", timeout_s=0.2, retries=0, max_body_bytes=LIMIT)
    client = await upstreams.client(dds, config)

    answer = await DdsAppointmentSource(client, Endpoint("dds")).appointments_for(SEARCH)

    assert answer.by_patient == {HANS: []}
    assert [client_code(error) for error in errors_in(answer)] == [FAULTS[fault].code.value]

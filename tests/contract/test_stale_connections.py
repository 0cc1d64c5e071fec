"""A read survives the race of a kept-alive connection the server closes just as it is reused.

The server here is real HTTP over TCP and closes every kept-alive connection idle for
``IDLE_S`` seconds: a request that arrives on such a connection is not answered, its connection is
closed (what a server whose keep-alive timer fires as the request is in flight does, made
deterministic). The calls are made right at that edge, ten at once (the subscriptions of issue 13's
verification, polling together), on both transports. Reads (GET, a search sent as POST, a token
request) are sent once more and all succeed; a write is never sent twice. Counted in requests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
import uvicorn

from sources.base import SourceClient, SourceConfig, build_client
from sources.errors import SourceUnavailable
from sources.transport import KEEPALIVE_EXPIRY_S, HttpTransport, build_transport

IDLE_S = 0.3
CALLS = 10
Call = Callable[[SourceClient], Awaitable[object]]


@dataclass
class Server:
    port: int
    requests: int = 0
    dropped: int = 0


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server(0)

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        answered_at: float | None = None
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                await reader.readexactly(length)
                state.requests += 1
                if answered_at is not None and time.monotonic() - answered_at >= IDLE_S:
                    state.dropped += 1
                    return  # the keep-alive timer fired: closed, unanswered
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}")
                await writer.drain()
                answered_at = time.monotonic()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    listening = await asyncio.start_server(connection, "127.0.0.1", 0)
    state.port = listening.sockets[0].getsockname()[1]
    yield state
    listening.close()


def _client(transport: HttpTransport, port: int) -> SourceClient:
    config = SourceConfig("treatment_relation", f"http://127.0.0.1:{port}", timeout_s=5.0, retries=0)
    # Keeps idle connections longer than the server does, so the calls at the edge reuse them.
    return SourceClient(config, build_client(config, build_transport(transport, keepalive_expiry_s=60)))


async def _at_the_edge(client: SourceClient, call: Call) -> list[object]:
    """``CALLS`` calls at once (each on its own connection), then as many again when those idled ``IDLE_S``."""
    await asyncio.gather(*(client.get_json("/warm") for _ in range(CALLS)))
    await asyncio.sleep(IDLE_S * 1.5)
    return await asyncio.gather(*(call(client) for _ in range(CALLS)), return_exceptions=True)


READS: dict[str, Call] = {
    "get": lambda c: c.get_json("/fhir/Patient"),
    "search_as_post": lambda c: c.send_json("POST", "/brs/relations", {"queries": []}, replayable=True),
    "token_request": lambda c: c.post_form("/token", {"grant_type": "client_credentials"}, replayable=True),
}


@pytest.mark.parametrize("transport", list(HttpTransport))
@pytest.mark.parametrize("read", list(READS))
async def test_a_read_on_a_connection_closed_at_the_edge_is_sent_once_more(
    server: Server, transport: HttpTransport, read: str
) -> None:
    client = _client(transport, server.port)
    try:
        answers = await _at_the_edge(client, READS[read])
    finally:
        await client.aclose()

    assert [a for a in answers if isinstance(a, BaseException)] == []
    assert server.dropped >= 1  # the edge was hit
    assert server.requests == 2 * CALLS + server.dropped  # each dropped one sent once more, nothing else


WRITES: dict[str, Call] = {
    "post": lambda c: c.send_json("POST", "/fhir/Consent", {"resourceType": "Consent"}),
    "put": lambda c: c.send_json("PUT", "/fhir/Patient/1", {"resourceType": "Patient"}),
    "delete": lambda c: c.send_json("DELETE", "/fhir/Consent/1"),
}


@pytest.mark.parametrize("transport", list(HttpTransport))
@pytest.mark.parametrize("write", list(WRITES))
async def test_a_write_is_never_sent_twice(server: Server, transport: HttpTransport, write: str) -> None:
    client = _client(transport, server.port)
    try:
        answers = await _at_the_edge(client, WRITES[write])
    finally:
        await client.aclose()

    failed = [a for a in answers if isinstance(a, BaseException)]
    assert server.dropped >= 1 and all(isinstance(a, SourceUnavailable) for a in failed)
    assert len(failed) == server.dropped  # the caller hears of each; none was sent again
    assert server.requests == 2 * CALLS


def test_the_gateway_closes_an_idle_connection_before_common_servers_do() -> None:
    """uvicorn (the sandbox's servers) closes an idle keep-alive connection after 5 s; Node after 5 s."""
    assert uvicorn.Config(app="gateway.app:create_app").timeout_keep_alive > KEEPALIVE_EXPIRY_S

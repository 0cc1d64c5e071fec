"""Each transport reports a broken upstream as the same kind of failure (ADR 0013).

``httpx-aiohttp`` on its own reports a refused or dropped connection as a timeout and lets a
malformed answer escape as an aiohttp error; through ``sources.transport`` every transport gives
``SourceUnavailable`` for these, and ``SourceTimeout`` only when the deadline passed.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from sources.base import SourceClient, SourceConfig, build_client
from sources.errors import SourceTimeout, SourceUnavailable
from sources.transport import LIMITS, AiohttpTransport, HttpTransport, ReplayingTransport, build_transport

Behaviour = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.close()


async def _cut_short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{")
    await writer.drain()
    writer.close()


async def _malformed(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 2x0 SURE\r\n\r\n")
    await writer.drain()
    writer.close()


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    await reader.read()  # until the client gives up


async def _client(transport: HttpTransport, port: int, timeout_s: float = 2.0) -> SourceClient:
    config = SourceConfig("cpr", f"http://127.0.0.1:{port}", timeout_s=timeout_s, retries=0)
    return SourceClient(config, build_client(config, build_transport(transport)))


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Behaviour], Awaitable[int]]]:
    servers: list[asyncio.Server] = []
    writers: list[asyncio.StreamWriter] = []

    async def start(behaviour: Behaviour) -> int:
        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)
            await behaviour(reader, writer)

        server = await asyncio.start_server(connection, "127.0.0.1", 0)
        servers.append(server)
        port: int = server.sockets[0].getsockname()[1]
        return port

    yield start
    for server in servers:
        server.close()
    for writer in writers:
        writer.close()
    await asyncio.sleep(0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.parametrize("transport", list(HttpTransport), ids=str)
async def test_a_refused_connection_is_unavailable_not_a_timeout(transport: HttpTransport) -> None:
    client = await _client(transport, _free_port())

    with pytest.raises(SourceUnavailable) as caught:
        await client.get_json("/fhir/Patient")
    await client.aclose()

    assert type(caught.value) is SourceUnavailable


@pytest.mark.parametrize("behaviour", [_drop, _cut_short, _malformed], ids=["dropped", "cut_short", "malformed"])
@pytest.mark.parametrize("transport", list(HttpTransport), ids=str)
async def test_a_broken_answer_is_unavailable_not_a_timeout(
    serve: Callable[[Behaviour], Awaitable[int]], transport: HttpTransport, behaviour: Behaviour
) -> None:
    client = await _client(transport, await serve(behaviour))

    with pytest.raises(SourceUnavailable) as caught:
        await client.get_json("/fhir/Patient")
    await client.aclose()

    assert type(caught.value) is SourceUnavailable


@pytest.mark.parametrize("transport", list(HttpTransport), ids=str)
async def test_silence_past_the_deadline_is_a_timeout(
    serve: Callable[[Behaviour], Awaitable[int]], transport: HttpTransport
) -> None:
    client = await _client(transport, await serve(_silent), timeout_s=0.2)

    with pytest.raises(SourceTimeout):
        await client.get_json("/fhir/Patient")
    await client.aclose()


async def test_the_aiohttp_session_pools_at_most_the_limit_and_never_decompresses() -> None:
    replaying = build_transport(HttpTransport.AIOHTTP)
    assert isinstance(replaying, ReplayingTransport)
    transport = replaying.pooled
    assert isinstance(transport, AiohttpTransport)
    session = transport.get_client()

    assert session.connector is not None
    assert session.connector.limit == LIMITS.max_connections
    assert session.auto_decompress is False  # sources/bodies.py decodes, bounded
    await session.close()

"""TCP_NODELAY on both ends of every upstream connection: the sandbox's accepted ones, the gateway's own.

Nagle's algorithm on either end makes a kept-alive answer wait for a delayed ACK (~40 ms). The option
is read from the sockets themselves, never inferred from a timing.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from sandbox.server import ThreadedSandbox
from sources.transport import HttpTransport
from tests.e2e.conftest import HANS, OVERVIEW, gateway_with


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


async def test_the_sandbox_sets_nodelay_on_every_kept_alive_connection(sandbox: ThreadedSandbox) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", _port(sandbox.url("issuer")))
    for _ in range(2):
        writer.write(b"GET /personas HTTP/1.1\r\nhost: sandbox\r\n\r\n")
        await writer.drain()
        await reader.readuntil(b"\r\n\r\n")
    client_port = writer.get_extra_info("sockname")[1]

    accepted = [
        protocol.transport.get_extra_info("socket")
        for server in sandbox.sandbox.running
        for protocol in list(server.server_state.connections)
        if protocol.transport.get_extra_info("peername")[1] == client_port
    ]
    writer.close()

    assert len(accepted) == 1
    assert accepted[0].getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def _client_sockets(ports: set[int]) -> list[socket.socket]:
    """Every open socket of this process connected to one of ``ports`` (the transports hold them privately)."""
    found = []
    for thing in gc.get_objects():
        if isinstance(thing, socket.socket) and thing.family == socket.AF_INET and thing.fileno() != -1:
            with contextlib.suppress(OSError):
                if thing.getpeername()[1] in ports and thing.getsockname()[1] not in ports:
                    found.append(thing)
    return found


@pytest.mark.parametrize("transport", list(HttpTransport), ids=str)
async def test_the_gateways_upstream_connections_set_nodelay(
    sandbox: ThreadedSandbox, tmp_path: Path, transport: HttpTransport
) -> None:
    ports = {_port(sandbox.url(name)) for name in ("issuer", "cpr", "yderregister", "stamkort", "registers")}
    async for gateway in gateway_with(sandbox, tmp_path, http_transport=transport):
        body = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)
        nodelay = [s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for s in _client_sockets(ports)]

    assert "errors" not in body
    assert len(nodelay) >= len(ports)  # one kept-alive connection per source at least
    assert set(nodelay) == {1}

"""TCP_NODELAY on both ends of every upstream connection: the sandbox's accepted ones, the gateway's own.

Nagle's algorithm on either end makes a kept-alive answer wait for a delayed ACK (~40 ms). The option
is read from the sockets themselves, never inferred from a timing.
"""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit

from sandbox.server import ThreadedSandbox


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
